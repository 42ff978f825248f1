import { safeRedirectPath } from '../../../src/components/auth';

describe('safeRedirectPath', () => {
  test.each(['/', '/training', '/school/abc?tab=overdue', '/admin/users?q=ana%20l'])('when next is the relative path %s, then it is kept', (next) => {
    expect(safeRedirectPath(next)).toBe(next);
  });

  test.each([
    '//evil.example',
    'https://evil.example',
    'http:/evil.example',
    '/\\evil',
    '\\\\evil',
    'javascript:alert(1)',
    'evil.example',
    '/ok\r\nSet-Cookie: x=1',
    '/with space',
    '/\tevil',
    '',
    '/login?next=/x',
    '/logout',
  ])('when next is %p, then it falls back to /', (next) => {
    expect(safeRedirectPath(next)).toBe('/');
  });

  test.each([undefined, null, 42, ['/training'], { $ne: '' }])('when next is not a string (%p), then /', (next) => {
    expect(safeRedirectPath(next)).toBe('/');
  });
});
