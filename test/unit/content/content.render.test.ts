import {
  DEFAULT_CONTENT_SETTINGS,
  DEFAULT_CONTENT_SETTINGS_BY_LANG,
  fillPlaceholders,
  renderInline,
  renderLabel,
  renderText,
  type DistrictContentSettings,
} from '../../../src/components/content';

function settingsWithPrincipal(name: string): DistrictContentSettings {
  const settings = structuredClone(DEFAULT_CONTENT_SETTINGS);
  settings.contacts.principal = { name, phone: '(555) 010-0000' };
  return settings;
}

describe('renderText', () => {
  it('when text contains a script tag, then it is escaped, not rendered', () => {
    const html = renderText('Hi <script>alert(1)</script> there', DEFAULT_CONTENT_SETTINGS);

    expect(html).toBe('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; there</p>\n');
  });

  it('when a setting value contains markup, then the value is escaped and not read as Markdown', () => {
    const settings = settingsWithPrincipal('<script>alert("x")</script> **Ms. Lee**');

    const html = renderText('Call {{principal}} at {{principal.phone}}.', settings);

    expect(html).toBe('<p>Call &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; **Ms. Lee** at <a href="tel:+15550100000">(555) 010-0000</a>.</p>\n');
    expect(html).not.toContain('<script');
  });

  it('when text uses the Markdown subset, then paragraphs, emphasis and lists are rendered', () => {
    const html = renderText('**Stay calm.** Be *courteous*.\n\n- one\n- two', DEFAULT_CONTENT_SETTINGS);

    expect(html).toBe('<p><strong>Stay calm.</strong> Be <em>courteous</em>.</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
  });

  it('when text holds a link or a forged sentinel character, then no link is produced and the text stays inert', () => {
    const html = renderText('[x](javascript:alert(1)) <https://example.com> \uE0000\uE001', DEFAULT_CONTENT_SETTINGS);

    expect(html).not.toContain('<a');
    expect(html).not.toContain('\uE000');
    expect(html).toContain('[x](javascript:alert(1))');
  });

  it('when rendering Spanish text with the Spanish defaults, then the defaults read in Spanish', () => {
    const html = renderText('Llame a {{counsel_office}}.', DEFAULT_CONTENT_SETTINGS_BY_LANG.es);

    expect(html).toBe('<p>Llame a la asesoría jurídica del distrito.</p>\n');
  });
});

describe('renderInline', () => {
  it('when a label is rendered, then it has no paragraph wrapper and escapes markup', () => {
    const html = renderInline('Notify **{{principal}}** <b>now</b>', settingsWithPrincipal('A & B'));

    expect(html).toBe('Notify <strong>A &amp; B</strong> &lt;b&gt;now&lt;/b&gt;');
  });
});

describe('placeholders at the start of a sentence', () => {
  it('when a placeholder starts the text, a sentence, a list item or a bold span, then its value is capitalized there only', () => {
    const text = '{{principal}} decides. Then call {{counsel_office}}! **{{principal}}** signs.\n- {{family_hotline}} answers';

    const filled = fillPlaceholders(text, DEFAULT_CONTENT_SETTINGS);

    expect(filled).toBe(
      "Your principal or site administrator decides. Then call the district's legal counsel office! **Your principal or site administrator** signs.\n- The district's family hotline answers",
    );
  });

  it('when rendered, then the capitalized value is still escaped', () => {
    const html = renderText('Done. {{principal}} arrives.', settingsWithPrincipal('<i>ms. lee</i>'));

    expect(html).toBe('<p>Done. &lt;i&gt;ms. lee&lt;/i&gt; arrives.</p>\n');
  });

  it('when a Spanish sentence starts with a placeholder, then the Spanish default is capitalized', () => {
    const html = renderInline('¿Qué hace? {{principal}} decide.', DEFAULT_CONTENT_SETTINGS_BY_LANG.es);

    expect(html).toBe('¿Qué hace? La dirección de su plantel decide.');
  });
});

describe('fillPlaceholders', () => {
  it('when text has known and unknown placeholders, then known ones are filled and unknown ones kept', () => {
    const text = fillPlaceholders('{{district_name}}: {{ family_hotline.phone }} {{nope}}', DEFAULT_CONTENT_SETTINGS);

    expect(text).toBe("Your school district: (see your site's emergency card) {{nope}}");
  });
});

describe('phone numbers inside the content own parentheses', () => {
  test('when a US number is written "(555) 010-1000" and the text wraps it in parentheses, then it reads "(555-010-1000)", never "((555) 010-1000)"', () => {
    const settings = { ...DEFAULT_CONTENT_SETTINGS, contacts: { ...DEFAULT_CONTENT_SETTINGS.contacts, principal: { name: 'the site principal', phone: '(555) 010-1000' } } };
    expect(fillPlaceholders('Call {{principal}} ({{principal.phone}}) now.', settings)).toBe('Call the site principal (555-010-1000) now.');
    expect(fillPlaceholders('Phone: {{principal.phone}}.', settings)).toBe('Phone: (555) 010-1000.');
  });

  test('when the default phone text is itself parenthesized, then the content parentheses are not doubled', () => {
    const out = fillPlaceholders('Call {{principal}} ({{principal.phone}}).', DEFAULT_CONTENT_SETTINGS);
    expect(out).not.toContain('((');
    expect(out).not.toContain('))');
  });
});

describe('phone placeholders as tel: links', () => {
  function settingsWithPhone(phone: string, lang: 'en' | 'es' = 'en'): DistrictContentSettings {
    const settings = structuredClone(DEFAULT_CONTENT_SETTINGS_BY_LANG[lang]);
    settings.contacts.principal = { name: 'Ms. Lee', phone };
    return settings;
  }

  test('when a phone placeholder holds a dialable number, then it is a tel: link showing the number as typed', () => {
    const html = renderText('Call {{principal}} at {{principal.phone}}.', settingsWithPhone('(555) 555-0100'));

    expect(html).toBe('<p>Call Ms. Lee at <a href="tel:+15555550100">(555) 555-0100</a>.</p>\n');
  });

  test('when the number has an extension, then the link carries ;ext= and the text keeps the extension', () => {
    const html = renderInline('Call {{principal.phone}}', settingsWithPhone('(213) 555-0100 ext. 12'));

    expect(html).toBe('Call <a href="tel:+12135550100;ext=12">(213) 555-0100 ext. 12</a>');
  });

  test('when the placeholder stands alone in the content parentheses, then the link text drops the area-code parentheses as before', () => {
    const html = renderText('Call {{principal}} ({{principal.phone}}).', settingsWithPhone('(555) 555-0100'));

    expect(html).toBe('<p>Call Ms. Lee (<a href="tel:+15555550100">555-555-0100</a>).</p>\n');
  });

  test('when the phone is inside emphasis or a list item, then the link sits inside the Markdown markup', () => {
    const html = renderText('- Hotline: **{{principal.phone}}**', settingsWithPhone('+1 213 555 0100'));

    expect(html).toBe('<ul>\n<li>Hotline: <strong><a href="tel:+12135550100">+1 213 555 0100</a></strong></li>\n</ul>\n');
  });

  test('when the phone is the neutral default or cannot be dialled, then it is plain escaped text with no link', () => {
    expect(renderText('Call {{principal.phone}}.', DEFAULT_CONTENT_SETTINGS)).toBe("<p>Call (see your site&#39;s emergency card).</p>\n");
    expect(renderText('Llame al {{principal.phone}}.', DEFAULT_CONTENT_SETTINGS_BY_LANG.es)).toBe('<p>Llame al (consulte la tarjeta de emergencia de su plantel).</p>\n');
    expect(renderText('Call {{principal.phone}}.', settingsWithPhone('555-0100'))).toBe('<p>Call 555-0100.</p>\n');
  });

  test('when a stored phone value carries markup or another scheme, then it is escaped text and never a link', () => {
    const html = renderText('Call {{principal.phone}}.', settingsWithPhone('555-555-0100" onclick="x"><script>alert(1)</script>'));
    const scheme = renderText('Call {{principal.phone}}.', settingsWithPhone('javascript:alert(5555550100)'));

    expect(html).toBe('<p>Call 555-555-0100&quot; onclick=&quot;x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.</p>\n');
    expect(scheme).toBe('<p>Call javascript:alert(5555550100).</p>\n');
  });

  test('when a contact name looks like a number, then only the phone placeholder is linked', () => {
    const settings = settingsWithPhone('(555) 555-0100');
    settings.contacts.principal.name = '555-555-0199';

    const html = renderInline('{{principal}}: {{principal.phone}}', settings);

    expect(html).toBe('555-555-0199: <a href="tel:+15555550100">(555) 555-0100</a>');
  });

  test('when Spanish text uses a phone placeholder, then it gets the same link', () => {
    const html = renderInline('Llame a {{principal}} al {{principal.phone}}', settingsWithPhone('(555) 555-0100', 'es'));

    expect(html).toBe('Llame a Ms. Lee al <a href="tel:+15555550100">(555) 555-0100</a>');
  });

  test('when an answer label is rendered, then the number stays text so a tap chooses the answer instead of dialling', () => {
    const html = renderLabel('Call {{principal}} at **{{principal.phone}}**', settingsWithPhone('(555) 555-0100'));

    expect(html).toBe('Call Ms. Lee at <strong>(555) 555-0100</strong>');
  });
});
