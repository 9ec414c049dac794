import { type Box, type Line, type PageResult, layoutOf, unionBox } from '../../contract/results';
import { languageCodes } from '../../contract/job-options';
import { pageResolution, textAngle, toPixels } from './pixels';
import { xmlEscape } from './xml';

/** What an hOCR file says about its origin. */
export interface OutputMeta {
  /** The uploaded file's name. */
  title: string;
  /** The producing software, e.g. "ocr-service 0.1.0 (tesseract.js 7.0.0)". */
  system: string;
}

const CAPABILITIES = 'ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrp_lang';

const bbox = (b: Box) => `bbox ${b.x0} ${b.y0} ${b.x1} ${b.y1}`;

function hocrHead(meta: OutputMeta, pageCount: number, language: string | null): string {
  const lang = hocrLang(language);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"${lang ? ` xml:lang="${lang}" lang="${lang}"` : ''}>
 <head>
  <title>${xmlEscape(meta.title)}</title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name="ocr-system" content="${xmlEscape(meta.system)}"/>
  <meta name="ocr-capabilities" content="${CAPABILITIES}"/>
  <meta name="ocr-number-of-pages" content="${pageCount}"/>
 </head>
 <body>
`;
}

/**
 * One `ocr_page`: its bbox in pixels at `scan_res`, `ppageno` counted from 0 as hOCR
 * wants, then its blocks (`ocr_carea`) of paragraphs (`ocr_par`) of lines and words.
 */
export function hocrPage(page: PageResult): string {
  const dpi = pageResolution(page);
  const n = page.page;
  const size = toPixels({ x0: 0, y0: 0, x1: page.width, y1: page.height }, dpi);
  const out: string[] = [
    `  <div class="ocr_page" id="page_${n}" title="${bbox(size)}; ppageno ${n - 1}; scan_res ${Math.round(dpi)} ${Math.round(dpi)}">\n`,
  ];
  const lang = hocrLang(page.language);
  const angle = textAngle(page);
  const area = (lines: Line[]) => bbox(toPixels(unionBox(lines.map((l) => l.bbox)), dpi));
  let l = 0;
  let p = 0;
  layoutOf(page.lines).forEach((block, b) => {
    out.push(`   <div class="ocr_carea" id="block_${n}_${b + 1}" title="${area(block.flat())}">\n`);
    for (const paragraph of block) {
      p += 1;
      out.push(`    <p class="ocr_par" id="par_${n}_${p}"${lang ? ` lang="${lang}"` : ''} title="${area(paragraph)}">\n`);
      for (const line of paragraph) {
        l += 1;
        const lineTitle = `${bbox(toPixels(line.bbox, dpi))}${angle ? `; textangle ${angle}` : ''}`;
        out.push(`     <span class="ocr_line" id="line_${n}_${l}" title="${lineTitle}">`);
        line.words.forEach((word, w) => {
          const conf = word.confidence === null ? '' : `; x_wconf ${Math.round(word.confidence)}`;
          out.push(
            `${w ? ' ' : ''}<span class="ocrx_word" id="word_${n}_${l}_${w + 1}" title="${bbox(toPixels(word.bbox, dpi))}${conf}">${xmlEscape(word.text)}</span>`,
          );
        });
        out.push('</span>\n');
      }
      out.push('    </p>\n');
    }
    out.push('   </div>\n');
  });
  out.push('  </div>\n');
  return out.join('');
}

/** A whole hOCR file for these pages, in pieces (a long document's file need not be one string). */
export function* hocrDocument(pages: PageResult[], meta: OutputMeta): Generator<string> {
  const languages = new Set(pages.map((p) => p.language).filter((l): l is string => l !== null));
  yield hocrHead(meta, pages.length, languages.size === 1 ? [...languages][0] : null);
  for (const page of pages) yield hocrPage(page);
  yield ' </body>\n</html>\n';
}

/** Tesseract's language codes are ISO 639-2 ("eng"); hOCR takes the first of "eng+fra". */
function hocrLang(language: string | null | undefined): string | null {
  const first = language ? languageCodes(language)[0] : undefined;
  return first && /^[a-z]{2,3}$/.test(first) ? first : null;
}
