/**
 * Removes invisible text (text render mode 3: an earlier OCR layer) from a page, as
 * OCRmyPDF's --redo-ocr does, so that a page read again does not carry two text layers.
 * What shows is never touched: visible text, clipping text (mode 7) and every other byte
 * stay as they were, and whenever the page's content is not plain enough to be sure of
 * that, it is left whole.
 *
 * pdf.js and pdf-lib parse content streams only inside their own code, so this reads the
 * tokens itself (PDF 32000-1, 7.2 and 7.8.2): strings with nested parentheses and escapes,
 * hex strings, dictionaries and comments.
 */
import { decodePDFRawStream, PDFArray, PDFContext, PDFDict, PDFName, PDFPage, PDFRawStream, PDFRef } from 'pdf-lib';

/** The text render mode in force, and those saved by `q`. Carried from one content stream of a page to the next. */
export interface TextState {
  mode: number;
  saved: number[];
}

export const initialTextState = (): TextState => ({ mode: 0, saved: [] });

export interface Stripped {
  /** The stream without its invisible text, or null when it had none (or was left whole). */
  content: Uint8Array | null;
  /** The names of the XObjects it draws (`Do`). */
  drawn: string[];
}

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const isRegular = (byte: number) => !WHITESPACE.has(byte) && !DELIMITERS.has(byte);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
/** Operators that set the text position from the line's start or anew, whatever was shown before. */
const REPOSITION = new Set(['Td', 'TD', 'Tm', 'T*', 'ET']);

const latin1 = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');

/**
 * The stream without the text it shows in render mode 3. Showing text also moves the text
 * position, so a run of invisible text goes only when what follows it is placed anew (Td,
 * TD, Tm, T*, ', " or ET) rather than after it. A stream with an inline image (arbitrary
 * bytes whose end can only be guessed) is left whole. `state` becomes the state at its end.
 */
export function stripInvisibleText(bytes: Uint8Array, state: TextState): Stripped {
  const drawn: string[] = [];
  const kept: Uint8Array[] = [];
  let copiedTo = 0;
  let pending: { start: number; end: number; text: string }[] = [];
  let operands: { start: number; end: number }[] = [];
  let i = 0;

  const commit = () => {
    for (const { start, end, text } of pending) {
      kept.push(bytes.subarray(copiedTo, start), Buffer.from(text, 'latin1'));
      copiedTo = end;
    }
    pending = [];
  };

  while (i < bytes.length) {
    const byte = bytes[i];
    if (WHITESPACE.has(byte)) {
      i += 1;
      continue;
    }
    if (byte === 0x25) {
      i = endOfComment(bytes, i);
      continue;
    }
    if (!isRegular(byte)) {
      const start = i;
      i = endOfDelimited(bytes, i);
      operands.push({ start, end: i });
      continue;
    }
    const start = i;
    while (i < bytes.length && isRegular(bytes[i])) i += 1;
    const word = latin1(bytes, start, i);
    if (NUMBER.test(word) || word === 'true' || word === 'false' || word === 'null') {
      operands.push({ start, end: i });
      continue;
    }
    const operand = (k: number) => latin1(bytes, operands[k].start, operands[k].end);
    // An operator whose operands are not all in this stream is left alone.
    const first = operands[0]?.start;
    if (word === 'BI') return { content: null, drawn };
    if (REPOSITION.has(word) || word === "'" || word === '"') commit();
    switch (word) {
      case 'q':
        state.saved.push(state.mode);
        break;
      case 'Q':
        state.mode = state.saved.pop() ?? 0;
        break;
      case 'Tr':
        if (operands.length) state.mode = Number(operand(operands.length - 1));
        break;
      case 'Do':
        if (operands.length) drawn.push(operand(operands.length - 1).slice(1));
        break;
      case 'Tj':
      case 'TJ':
      case "'":
      case '"': {
        const arity = word === '"' ? 3 : 1;
        if (state.mode !== 3 || first === undefined || operands.length < arity) {
          // Shown where the invisible text before it left off: that text stays.
          pending = [];
          break;
        }
        // ' and " move to the next line first; that move stays.
        const text = word === "'" ? 'T*' : word === '"' ? `${operand(0)} Tw ${operand(1)} Tc T*` : '';
        pending.push({ start: first, end: i, text });
        break;
      }
    }
    operands = [];
  }
  // Text still open at the end of the stream may be followed by more in the next one.
  pending = [];
  if (!kept.length) return { content: null, drawn };
  kept.push(bytes.subarray(copiedTo));
  return { content: Buffer.concat(kept), drawn };
}

function endOfComment(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i += 1;
  return i;
}

/** Past the token that starts with the delimiter at `i`: a string, hex string, dictionary, name or bracket. */
function endOfDelimited(bytes: Uint8Array, i: number): number {
  const byte = bytes[i];
  if (byte === 0x28) return endOfString(bytes, i);
  if (byte === 0x3c && bytes[i + 1] === 0x3c) return endOfDictionary(bytes, i);
  if (byte === 0x3c) {
    while (i < bytes.length && bytes[i] !== 0x3e) i += 1;
    return i + 1;
  }
  if (byte === 0x2f) {
    i += 1;
    while (i < bytes.length && isRegular(bytes[i])) i += 1;
    return i;
  }
  // Array brackets belong to an operand (TJ's); stray delimiters are skipped, as pdf.js does.
  return i + 1;
}

/** Past the `)` that closes the string opened at `i`, minding nested parentheses and escapes. */
function endOfString(bytes: Uint8Array, i: number): number {
  let depth = 0;
  for (; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x5c) i += 1;
    else if (byte === 0x28) depth += 1;
    else if (byte === 0x29 && --depth === 0) return i + 1;
  }
  return i;
}

/** Past the `>>` that closes the dictionary opened at `i` (the strings, hex strings, comments and dictionaries inside it). */
function endOfDictionary(bytes: Uint8Array, i: number): number {
  i += 2;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === 0x3e && bytes[i + 1] === 0x3e) return i + 2;
    if (byte === 0x25) i = endOfComment(bytes, i);
    else if (byte === 0x28 || byte === 0x3c) i = endOfDelimited(bytes, i);
    else i += 1;
  }
  return i;
}

/**
 * Strips the invisible text of a page's content streams and of the form XObjects it draws
 * (where OCRmyPDF puts its text layer). Nothing shared is changed: a rewritten stream or
 * form is a new object, and the page gets its own list of contents and of XObjects to
 * point at it, so other pages (and pages not OCR'd) keep what they had. A stream pdf-lib
 * cannot decode exactly (an unknown filter, decode parameters) is left whole.
 */
export function removeInvisibleText(page: PDFPage): void {
  const { context } = page.doc;
  const node = page.node;
  const contents = node.Contents();
  const refs = contents instanceof PDFArray ? contents.asArray() : [node.get(PDFName.of('Contents'))];
  const state = initialTextState();
  const drawn = new Set<string>();
  let changed = false;
  const newRefs = refs.map((ref) => {
    const result = ref instanceof PDFRef ? rewrite(context, ref, state) : null;
    result?.drawn.forEach((name) => drawn.add(name));
    if (!result?.ref) return ref;
    changed = true;
    return result.ref;
  });
  if (changed) node.set(PDFName.of('Contents'), context.obj(newRefs));

  const resources = node.Resources();
  const xobjects = resources?.lookupMaybe(PDFName.of('XObject'), PDFDict);
  if (!resources || !xobjects) return;
  const replaced = new Map<PDFName, PDFRef>();
  for (const name of drawn) {
    const key = PDFName.of(name);
    const ref = xobjects.get(key);
    const form = ref instanceof PDFRef ? context.lookup(ref) : undefined;
    if (!(form instanceof PDFRawStream) || form.dict.get(PDFName.of('Subtype')) !== PDFName.of('Form')) continue;
    // A form starts from the state it is drawn in; an OCR layer in a form sets its own mode.
    const result = rewrite(context, ref as PDFRef, initialTextState());
    if (result?.ref) replaced.set(key, result.ref);
  }
  if (!replaced.size) return;
  const ownXObjects = xobjects.clone(context);
  for (const [key, ref] of replaced) ownXObjects.set(key, ref);
  const ownResources = resources.clone(context);
  ownResources.set(PDFName.of('XObject'), ownXObjects);
  node.set(PDFName.of('Resources'), ownResources);
}

/** The stream at `ref` stripped, as a new object (`ref`, when anything went), and what it draws. */
function rewrite(context: PDFContext, ref: PDFRef, state: TextState): { ref: PDFRef | null; drawn: string[] } | null {
  const stream = context.lookup(ref);
  if (!(stream instanceof PDFRawStream) || stream.dict.has(PDFName.of('DecodeParms'))) return null;
  let decoded: Uint8Array;
  try {
    decoded = decodePDFRawStream(stream).decode();
  } catch {
    return null;
  }
  const { content, drawn } = stripInvisibleText(decoded, state);
  if (!content) return { ref: null, drawn };
  const replacement = context.flateStream(content);
  const dropped = [PDFName.of('Filter'), PDFName.of('DecodeParms'), PDFName.of('Length'), PDFName.of('DL')];
  for (const [key, value] of stream.dict.entries()) if (!dropped.includes(key)) replacement.dict.set(key, value);
  return { ref: context.register(replacement), drawn };
}
