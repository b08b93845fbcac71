import net from 'node:net';

function globToRegExp(glob: string, segment: string): RegExp {
  let body = '';
  let rest = glob;
  if (segment === '[^.]' && rest.startsWith('**.')) {
    body = '(?:[^.]+\\.)*';
    rest = rest.slice(3);
  }
  for (const ch of rest) body += ch === '*' ? `${segment}*` : ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${body}$`, 'i');
}

/** DNS names: `*` stays inside one label, a leading `**.` spans labels. Case-insensitive. */
export function dnsMatches(name: string, pattern: string): boolean {
  return globToRegExp(pattern, '[^.]').test(name);
}

/** Email, URI, UPN and subject values: `*` matches any run of characters. */
export function textMatches(value: string, pattern: string): boolean {
  return globToRegExp(pattern, '.').test(value);
}

/** IPv4/IPv6 address inside a CIDR block (a bare address is a /32 or /128). */
export function ipMatches(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const family = net.isIP(base ?? '');
  if (!family || net.isIP(address) !== family) return false;
  const bits = bitsText === undefined ? (family === 4 ? 32 : 128) : Number(bitsText);
  const list = new net.BlockList();
  list.addSubnet(base!, bits, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** For policy validation: `a.b.c.d/n` or `v6::/n` with a prefix length that fits the family. */
export function isValidCidr(cidr: string): boolean {
  const [base, bitsText, extra] = cidr.split('/');
  const family = net.isIP(base ?? '');
  if (!family || extra !== undefined) return false;
  if (bitsText === undefined) return true;
  const bits = Number(bitsText);
  return /^\d{1,3}$/.test(bitsText) && bits <= (family === 4 ? 32 : 128);
}
