import { initialTextState, stripInvisibleText } from './invisible-text';

const strip = (content: string, state = initialTextState()) => {
  const { content: out } = stripInvisibleText(Buffer.from(content, 'latin1'), state);
  return out === null ? null : Buffer.from(out).toString('latin1');
};

describe('stripInvisibleText', () => {
  it('removes what render mode 3 shows, with its operands, and keeps the rest byte for byte', () => {
    const content = 'BT /F1 12 Tf 3 Tr 1 0 0 1 10 10 Tm (old words) Tj 0 20 Td [(a) -20 (b)] TJ ET\nBT 0 Tr (seen) Tj ET';
    expect(strip(content)).toBe('BT /F1 12 Tf 3 Tr 1 0 0 1 10 10 Tm  0 20 Td  ET\nBT 0 Tr (seen) Tj ET');
  });

  it('keeps invisible text that visible text is shown after, since it moves it along', () => {
    expect(strip('BT 10 10 Td 3 Tr (hidden) Tj (more) Tj 0 Tr (visible) Tj ET')).toBeNull();
    expect(strip('BT 10 10 Td 3 Tr (hidden) Tj 7 Tr (clip) Tj ET')).toBeNull();
    expect(strip('BT 3 Tr (hidden) Tj 0 Tr 0 -14 Td (visible) Tj ET')).toBe('BT 3 Tr  0 Tr 0 -14 Td (visible) Tj ET');
  });

  it('keeps the line moves of \' and "', () => {
    expect(strip('BT 3 Tr (a) \' 1 2 (b) " ET')).toBe('BT 3 Tr T* 1 Tw 2 Tc T* ET');
  });

  it('follows q and Q, and carries the mode from one stream of a page to the next', () => {
    expect(strip('q 3 Tr Q BT (seen) Tj ET')).toBeNull();
    const state = initialTextState();
    expect(strip('BT 3 Tr', state)).toBeNull();
    expect(strip('(gone) Tj ET', state)).toBe(' ET');
    // Operands in one stream and their operator in the next: left alone.
    expect(strip('BT 3 Tr (x)', state)).toBeNull();
    expect(strip('Tj ET', state)).toBeNull();
  });

  it('keeps visible and clipping text, and returns null when nothing goes', () => {
    expect(strip('BT 0 Tr (a) Tj 7 Tr (b) Tj 1 Tr (c) Tj ET')).toBeNull();
  });

  it('is not fooled by strings, hex strings, dictionaries or comments', () => {
    const content = [
      'BT 3 Tr',
      '(a \\) Tj (nested) 0 Tr) Tj ET',
      'BT <48 65> Tj ET',
      '/P << /MCID 0 /Alt (x) Tj) /H <41>>> BDC BT (b) Tj ET EMC',
      '/Q << % (\n/K 1 >> BDC BT (c) Tj ET EMC',
      '% 0 Tr (comment) Tj',
      'BT (d) Tj ET',
    ].join('\n');
    const out = strip(content)!;
    expect(out).not.toMatch(/\((a|b|c|d)\)|<48 65>|nested/);
    expect(out).toContain('% 0 Tr (comment) Tj');
    expect(out).toContain('/P << /MCID 0 /Alt (x) Tj) /H <41>>> BDC BT  ET EMC');
  });

  it('leaves a stream with an inline image whole, and names the XObjects drawn', () => {
    expect(strip('BT 3 Tr (a) Tj ET BI /W 1 /H 1 /BPC 8 /CS /G ID \x00EI\x00 Tj EI')).toBeNull();
    expect(stripInvisibleText(Buffer.from('q /Im1 Do Q /Fm#201 Do'), initialTextState()).drawn).toEqual(['Im1', 'Fm#201']);
  });
});
