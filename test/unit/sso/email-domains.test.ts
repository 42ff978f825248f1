import { emailDomainOf, isEmailTrusted } from '../../../src/components/sso/email-domains';

describe('which email may link an account the first time', () => {
  const district = ['lausd.net', 'lausd.org'];

  test('when the provider says verified, then it is trusted whatever the domain', () => {
    expect(isEmailTrusted('maria@gmail.com', true, [])).toBe(true);
  });

  test('when the provider says not verified, then it is refused even at a listed domain', () => {
    expect(isEmailTrusted('maria@lausd.net', false, district)).toBe(false);
  });

  test('when the provider says nothing, then only an exact listed domain is trusted (no subdomains, any case)', () => {
    expect(isEmailTrusted('Maria@LAUSD.net', undefined, district)).toBe(true);
    expect(isEmailTrusted('maria@lausd.org', undefined, district)).toBe(true);
    expect(isEmailTrusted('maria@lausd.net', undefined, [])).toBe(false);
    expect(isEmailTrusted('maria@mail.lausd.net', undefined, district)).toBe(false);
    expect(isEmailTrusted('maria@lausd.net.evil.example', undefined, district)).toBe(false);
    expect(isEmailTrusted('maria@evil-lausd.net', undefined, district)).toBe(false);
    expect(isEmailTrusted('lausd.net', undefined, district)).toBe(false);
  });

  test('when an address has several "@", then the domain is what follows the last one', () => {
    expect(emailDomainOf('"a@lausd.net"@evil.example')).toBe('evil.example');
    expect(isEmailTrusted('"a@lausd.net"@evil.example', undefined, district)).toBe(false);
    expect(emailDomainOf('nobody@')).toBeUndefined();
  });
});
