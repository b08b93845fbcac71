/**
 * Preloaded into the bench's server process (`--import ./bench/lib/memory-report.ts`): writes
 * `process.memoryUsage()` to BENCH_MEMORY_FILE.<pid> every 500 ms, so bench/memory.ts can split the
 * resident memory it reads from /proc into the V8 heap and memory outside it (`external`: PGlite's
 * WebAssembly memory lives there).
 */
import fs from 'node:fs';

const file = process.env['BENCH_MEMORY_FILE'];
if (file) {
  const write = () => {
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(process.memoryUsage()));
    fs.renameSync(`${file}.${process.pid}.tmp`, `${file}.${process.pid}`);
  };
  write();
  setInterval(write, 500).unref();
}
