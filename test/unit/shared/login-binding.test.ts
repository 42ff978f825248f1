import { bindingCookieMode, bindingMatches, hashBinding, newBinding } from '../../../src/shared/login-binding';

describe('bindingCookieMode', () => {
  test.each([
    ['production, even behind a plain-http BASE_URL', { isProduction: true, baseUrl: 'http://training.internal' }, { secure: true, sameSite: 'none' }],
    ['an https BASE_URL', { isProduction: false, baseUrl: 'https://staging.training.example' }, { secure: true, sameSite: 'none' }],
    ['http://localhost (browsers treat it as secure)', { isProduction: false, baseUrl: 'http://localhost:3000' }, { secure: true, sameSite: 'none' }],
    ['http://127.0.0.1', { isProduction: false, baseUrl: 'http://127.0.0.1:3000' }, { secure: true, sameSite: 'none' }],
    ['plain http on another host (tests, a LAN address)', { isProduction: false, baseUrl: 'http://192.168.1.20:3000' }, { secure: false, sameSite: 'lax' }],
  ])('when %s, then the cookie mode follows', (_label, config, expected) => {
    expect(bindingCookieMode(config)).toEqual(expected);
  });
});

describe('bindingMatches', () => {
  test('when the value hashes to the stored hash, then it matches; another value, no value or no hash does not', () => {
    const a = newBinding();
    const b = newBinding();
    expect(a.value).not.toBe(b.value);
    expect(a.hash).toBe(hashBinding(a.value));
    expect(bindingMatches(a.value, a.hash)).toBe(true);
    expect(bindingMatches(b.value, a.hash)).toBe(false);
    expect(bindingMatches(undefined, a.hash)).toBe(false);
    expect(bindingMatches(a.value, undefined)).toBe(false);
    expect(bindingMatches(a.value, 'short')).toBe(false);
  });
});
