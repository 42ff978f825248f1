import { newCertificateCode } from '../../../src/components/training/play.service';
import { toPhrasing } from '../../../src/components/training/training.view';

describe('toPhrasing', () => {
  test('when block HTML is turned into legend content, then paragraphs and lists become spans and inline markup stays', () => {
    expect(toPhrasing('<p>One <strong>two</strong></p>\n<p>Three?</p>\n')).toBe('<span class="md-p">One <strong>two</strong></span>\n<span class="md-p">Three?</span>');
    expect(toPhrasing('<ul>\n<li>a</li>\n</ul>')).toBe('<span class="md-ul">\n<span class="md-li">a</span>\n</span>');
  });
});

describe('newCertificateCode', () => {
  test('when codes are generated, then each is 26 base32 characters (128 bits) and they differ', () => {
    const codes = new Set(Array.from({ length: 500 }, () => newCertificateCode()));
    expect(codes.size).toBe(500);
    for (const code of codes) expect(code).toMatch(/^[A-Z2-7]{26}$/);
  });
});
