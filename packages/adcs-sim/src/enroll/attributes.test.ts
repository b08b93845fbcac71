import { describe, expect, it } from 'vitest';
import { parseAttributes, parseSanAttribute, requestedEndDate } from './attributes.ts';

const NB = new Date('2026-01-01T00:00:00Z');

describe('CertAttrib', () => {
  it.each([
    ['ok/CRLF separated, names case-insensitive', 'CertificateTemplate:WebServer\r\nSAN:dns=a', [['certificatetemplate', 'WebServer'], ['san', 'dns=a']]],
    ['ok/value keeps later colons', 'ExpirationDate:Fri, 01 Jan 2027 00:00:00 GMT', [['expirationdate', 'Fri, 01 Jan 2027 00:00:00 GMT']]],
    ['fail/lines without a name are skipped', ':novalue\nnocolon\n\n', []],
    ['fail/random bytes yield no attributes', '\u0000\u00ff\u0013garbage', []],
  ])('%s', (_n, text, pairs) => {
    expect([...parseAttributes(text)]).toEqual(pairs);
  });
});

describe('SAN attribute', () => {
  it.each([
    ['ok/dns, upn, email, ipaddress', 'dns=a.test&upn=u@corp.test&email=e@corp.test&ipaddress=10.0.0.1', ['dns:a.test', 'upn:u@corp.test', 'email:e@corp.test', 'ip:10.0.0.1']],
    ['ok/percent-encoded value', 'dns=a%2Eb.test', ['dns:a.b.test']],
    ['fail/unknown keys and empty values dropped', 'foo=bar&dns=&=x&dns', []],
    ['fail/broken percent escape kept literally', 'dns=%zz.test', ['dns:%zz.test']],
  ])('%s', (_n, value, want) => {
    expect(parseSanAttribute(value).map((e) => `${e.type}:${e.value}`)).toEqual(want);
  });
});

describe('requested end date', () => {
  it.each([
    ['ok/ExpirationDate RFC 2616', [['expirationdate', 'Fri, 01 Jan 2027 00:00:00 GMT']], '2027-01-01T00:00:00.000Z'],
    ['ok/ValidityPeriod Days', [['validityperiod', 'Days'], ['validityperiodunits', '30']], '2026-01-31T00:00:00.000Z'],
    ['ok/ValidityPeriod Months', [['validityperiod', 'Months'], ['validityperiodunits', '2']], '2026-03-01T00:00:00.000Z'],
    ['ok/ValidityPeriod Years', [['validityperiod', 'Years'], ['validityperiodunits', '1']], '2027-01-01T00:00:00.000Z'],
    ['fail/unparsable ExpirationDate ignored', [['expirationdate', 'next tuesday-ish']], 'none'],
    ['fail/unknown period unit ignored', [['validityperiod', 'Fortnights'], ['validityperiodunits', '1']], 'none'],
    ['fail/non-integer units ignored', [['validityperiod', 'Days'], ['validityperiodunits', '1.5']], 'none'],
  ] as Array<[string, Array<[string, string]>, string]>)('%s', (_n, pairs, want) => {
    expect(requestedEndDate(new Map(pairs), NB)?.toISOString() ?? 'none').toBe(want);
  });
});
