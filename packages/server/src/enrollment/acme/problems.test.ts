import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../errors.ts';
import { AcmeProblem, PROBLEM_FOR_CODE, PROBLEMS, toAcmeProblem, type AcmeProblemType } from './problems.ts';

describe('ACME problem table', () => {
  it.each(Object.entries(PROBLEMS) as [AcmeProblemType, { status: number; urn: string }][])('ok/%s renders with its status and URN', (type, row) => {
    const json = new AcmeProblem(type, 'detail').toJSON();
    expect(json).toEqual({ type: `urn:ietf:params:acme:error:${row.urn}`, detail: 'detail', status: row.status });
  });

  it.each(Object.entries(PROBLEM_FOR_CODE) as [ErrorCode, AcmeProblemType][])('ok/service error %s reads as %s', (code, type) => {
    const problem = toAcmeProblem(new AppError(code, 'message'));
    expect([problem.type, problem.message]).toEqual([type, 'message']);
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 'payloadTooLarge', 413],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupportedMediaType', 415],
  ])('ok/Fastify %s is %s', (code, type, status) => {
    const problem = toAcmeProblem(Object.assign(new Error('x'), { code }));
    expect([problem.type, problem.status]).toEqual([type, status]);
  });

  it('fail/an unexpected error is serverInternal and hides its message', () => {
    const problem = toAcmeProblem(new Error('secret detail'));
    expect([problem.type, problem.status, problem.message]).toEqual(['serverInternal', 500, 'an internal error occurred; it has been logged']);
  });
});
