import { cleanMailError, createMailer, describeSmtpUrl } from '../../../src/shared/mailer';

describe('mailer', () => {
  test('when an SMTP error mentions the URL or its password, then the stored message has neither', () => {
    const url = 'smtps://mailer:p%40ss-w0rd@mail.example.org:465';
    expect(cleanMailError(new Error('Invalid login for smtps://mailer:p%40ss-w0rd@mail.example.org:465 (p@ss-w0rd)'), url)).toBe('Invalid login for smtps://[redacted]@mail.example.org:465 ([redacted])');
    expect(describeSmtpUrl(url)).toBe('smtps://mail.example.org:465');
  });

  test('when there is no SMTP_URL, then development writes files and production is disabled', async () => {
    const base = { smtpUrl: undefined, mailFrom: 'a@b.example', dataDir: '/tmp/none', baseUrl: 'http://x' };
    expect(createMailer({ ...base, isProduction: false }).mode).toBe('file');
    const disabled = createMailer({ ...base, isProduction: true });
    expect(disabled.mode).toBe('disabled');
    await expect(disabled.send({ to: 'a@b.example', subject: 's', text: 't', html: 'h', language: 'en' })).rejects.toThrow('not configured');
  });
});
