import { toTelHref } from '../../../src/components/content';

describe('toTelHref', () => {
  test('when a US number has 10 digits in any usual layout, then it becomes +1 and the digits', () => {
    expect(toTelHref('(555) 555-0100')).toBe('tel:+15555550100');
    expect(toTelHref('555-555-0100')).toBe('tel:+15555550100');
    expect(toTelHref('555.555.0100')).toBe('tel:+15555550100');
    expect(toTelHref('555 555 0100')).toBe('tel:+15555550100');
    expect(toTelHref('555/555-0100')).toBe('tel:+15555550100');
    expect(toTelHref('  (555) 010-0142  ')).toBe('tel:+15550100142');
  });

  test('when a US number is written with the trunk prefix 1, then the 1 is the country code', () => {
    expect(toTelHref('1 (213) 555-0100')).toBe('tel:+12135550100');
    expect(toTelHref('1-800-555-0199')).toBe('tel:+18005550199');
  });

  test('when a number starts with +, then its digits are kept as given', () => {
    expect(toTelHref('+1 213 555 0100')).toBe('tel:+12135550100');
    expect(toTelHref('+44 20 7946 0958')).toBe('tel:+442079460958');
    expect(toTelHref('+52 (55) 1234-5678')).toBe('tel:+525512345678');
  });

  test('when a number has an extension written x, ext or ext., then it becomes ;ext=', () => {
    expect(toTelHref('(213) 555-0100 ext. 12')).toBe('tel:+12135550100;ext=12');
    expect(toTelHref('(213) 555-0100 ext 12')).toBe('tel:+12135550100;ext=12');
    expect(toTelHref('(213) 555-0100 x123')).toBe('tel:+12135550100;ext=123');
    expect(toTelHref('213-555-0100X7')).toBe('tel:+12135550100;ext=7');
    expect(toTelHref('+44 20 7946 0958 Ext.4')).toBe('tel:+442079460958;ext=4');
  });

  test('when a number has no area code or too many digits, then there is no link', () => {
    expect(toTelHref('555-0100')).toBeUndefined();
    expect(toTelHref('555 555 01000')).toBeUndefined();
    expect(toTelHref('2 (213) 555-0100')).toBeUndefined();
    expect(toTelHref('(055) 555-0100')).toBeUndefined();
    expect(toTelHref('+1 234 567 890 123 456')).toBeUndefined();
    expect(toTelHref('+0 555 555 0100')).toBeUndefined();
    expect(toTelHref('+12345')).toBeUndefined();
  });

  test('when the value is empty, words, or the neutral default text, then there is no link', () => {
    expect(toTelHref('')).toBeUndefined();
    expect(toTelHref('   ')).toBeUndefined();
    expect(toTelHref('()-')).toBeUndefined();
    expect(toTelHref('1-800-FLOWERS')).toBeUndefined();
    expect(toTelHref("(see your site's emergency card)")).toBeUndefined();
    expect(toTelHref('(consulte la tarjeta de emergencia de su plantel)')).toBeUndefined();
    expect(toTelHref('555-555-0100 extension 12')).toBeUndefined();
    expect(toTelHref('555-555-0100 ext. 1234567')).toBeUndefined();
  });

  test('when the value carries markup, another scheme or a second +, then there is no link', () => {
    expect(toTelHref('555-555-0100"><script>alert(1)</script>')).toBeUndefined();
    expect(toTelHref('javascript:alert(5555550100)')).toBeUndefined();
    expect(toTelHref('tel:+15555550100')).toBeUndefined();
    expect(toTelHref('555-555-0100;ext=1')).toBeUndefined();
    expect(toTelHref('555-555-0100\n<b>')).toBeUndefined();
    expect(toTelHref('+1 555 +555 0100')).toBeUndefined();
    expect(toTelHref('555-555-0100 x12 x13')).toBeUndefined();
  });
});
