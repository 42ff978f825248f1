import {
  DEFAULT_CONTENT_SETTINGS,
  DEFAULT_CONTENT_SETTINGS_BY_LANG,
  fillPlaceholders,
  renderInline,
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

    expect(html).toBe('<p>Call &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; **Ms. Lee** at (555) 010-0000.</p>\n');
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

    expect(html).toBe('<p>Llame a la oficina jurídica del distrito.</p>\n');
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

    expect(html).toBe('¿Qué hace? Su director o administrador del plantel decide.');
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
