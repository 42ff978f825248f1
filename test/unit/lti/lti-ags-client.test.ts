import { decodeJwt, decodeProtectedHeader, generateKeyPair, type CryptoKey } from 'jose';
import { clientAssertion, scoresUrl } from '../../../src/components/lti/lti-ags-client';

describe('the score service URL', () => {
  test.each([
    ['https://lms.example/api/lti/courses/1/line_items/7', 'https://lms.example/api/lti/courses/1/line_items/7/scores'],
    ['https://lms.example/lineitems/7?type_id=3&x=1', 'https://lms.example/lineitems/7/scores?type_id=3&x=1'],
    ['https://lms.example/lineitems/7/?a=b#frag', 'https://lms.example/lineitems/7/scores?a=b'],
  ])('when the line item is %s, then scores go to %s (path extended before the query)', (lineitem, expected) => {
    expect(scoresUrl(lineitem).href).toBe(expected);
  });
});

describe('the client assertion (RFC 7523)', () => {
  test('when signed, then iss = sub = client id, aud = token endpoint, a jti, exp five minutes after iat, and the kid in the header', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const jwt = await clientAssertion({ clientId: 'client-1', tokenUrl: 'https://lms.example/token' }, { kid: 'kid-1', privateKey: privateKey as CryptoKey }, 1_800_000_000);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', kid: 'kid-1', typ: 'JWT' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({ iss: 'client-1', sub: 'client-1', aud: 'https://lms.example/token', iat: 1_800_000_000, exp: 1_800_000_300 });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    const again = decodeJwt(await clientAssertion({ clientId: 'client-1', tokenUrl: 'https://lms.example/token' }, { kid: 'kid-1', privateKey: privateKey as CryptoKey }));
    expect(again.jti).not.toBe(claims.jti);
  });
});
