import type { Line, PageResult } from '../../contract/results';
import { altoDocument } from './alto';
import { hocrDocument } from './hocr';

const meta = { title: 'scan & co.pdf', system: 'ocr-service 1.0.0' };
const software = { name: 'ocr-service', version: '1.0.0' };

function page(fields: Partial<PageResult>): PageResult {
  return {
    page: 2,
    source: 'ocr',
    text: 'Hello <world>',
    confidence: 91.5,
    width: 144,
    height: 72,
    rotation: 0,
    rotationMethod: 'confident-read',
    readMethod: 'otsu',
    noiseFilter: { droppedWords: 0, overruled: false },
    dpi: 300,
    language: 'eng+fra',
    lines: [
      {
        text: 'Hello <world>',
        confidence: 91.5,
        bbox: { x0: 7.2, y0: 7.2, x1: 72, y1: 21.6 },
        block: 1,
        paragraph: 1,
        words: [
          { text: 'Hello', confidence: 95.4, bbox: { x0: 7.2, y0: 7.2, x1: 36, y1: 21.6 } },
          { text: '<world>', confidence: 87.6, bbox: { x0: 43.2, y0: 7.2, x1: 72, y1: 21.6 } },
        ],
      },
    ],
    ...fields,
  };
}

describe('hOCR', () => {
  it('gives pages, lines and words with boxes in pixels at the page resolution, and word confidence', () => {
    const hocr = [...hocrDocument([page({})], meta)].join('');
    expect(hocr).toContain('<title>scan &amp; co.pdf</title>');
    expect(hocr).toContain('<meta name="ocr-system" content="ocr-service 1.0.0"/>');
    expect(hocr).toContain('<meta name="ocr-number-of-pages" content="1"/>');
    expect(hocr).toContain('class="ocr_page" id="page_2" title="bbox 0 0 600 300; ppageno 1; scan_res 300 300"');
    expect(hocr).toContain('<p class="ocr_par" id="par_2_1" lang="eng" title="bbox 30 30 300 90">');
    expect(hocr).toContain('<span class="ocr_line" id="line_2_1" title="bbox 30 30 300 90">');
    expect(hocr).toContain('<span class="ocrx_word" id="word_2_1_1" title="bbox 30 30 150 90; x_wconf 95">Hello</span>');
    expect(hocr).toContain('title="bbox 180 30 300 90; x_wconf 88">&lt;world&gt;</span>');
  });

  it('gives text-layer pages at 72 dpi without confidences, and the text angle of turned pages', () => {
    const text = [...hocrDocument([page({ source: 'text', dpi: null, language: null, confidence: null })], meta)].join('');
    expect(text).toContain('title="bbox 0 0 144 72; ppageno 1; scan_res 72 72"');
    const words = page({}).lines[0].words.map((w) => ({ ...w, confidence: null }));
    const noConf = [...hocrDocument([page({ dpi: null, lines: [{ ...page({}).lines[0], words }] })], meta)].join('');
    expect(noConf).not.toContain('x_wconf');
    expect([...hocrDocument([page({ rotation: 90 })], meta)].join('')).toContain('; textangle 90');
  });

  it('gives each block its content area and each paragraph its own, lines numbered through the page', () => {
    const [first] = page({}).lines;
    const below = (line: Line, dy: number, block: number, paragraph: number): Line => ({
      ...line,
      bbox: { ...line.bbox, y0: line.bbox.y0 + dy, y1: line.bbox.y1 + dy },
      words: line.words.map((w) => ({ ...w, bbox: { ...w.bbox, y0: w.bbox.y0 + dy, y1: w.bbox.y1 + dy } })),
      block,
      paragraph,
    });
    const lines = [first, below(first, 14.4, 1, 2), below(first, 28.8, 2, 3)];
    const hocr = [...hocrDocument([page({ lines })], meta)].join('');
    expect(hocr.match(/class="ocr_carea"/g)).toHaveLength(2);
    expect(hocr.match(/class="ocr_par"/g)).toHaveLength(3);
    expect(hocr).toContain('<div class="ocr_carea" id="block_2_1" title="bbox 30 30 300 150">');
    expect(hocr).toContain('<p class="ocr_par" id="par_2_2" lang="eng" title="bbox 30 90 300 150">');
    expect(hocr).toContain('<div class="ocr_carea" id="block_2_2" title="bbox 30 150 300 210">');
    expect(hocr).toContain('<span class="ocr_line" id="line_2_3" title="bbox 30 150 300 210">');
    expect(hocr).toContain('id="word_2_3_1"');
    const alto = [...altoDocument([page({ lines })], meta, software)].join('');
    expect(alto.match(/<TextBlock /g)).toHaveLength(3);
    expect(alto).toContain('<TextBlock ID="block_2_3" HPOS="30" VPOS="150" WIDTH="270" HEIGHT="60">');
    expect(alto).toContain('<TextLine ID="line_2_3" HPOS="30" VPOS="150" WIDTH="270" HEIGHT="60">');
  });

  it('gives the lines of a result stored before lines had blocks and paragraphs one of each', () => {
    const [first] = page({}).lines;
    const { block: _b, paragraph: _p, ...old } = first;
    const lines = [old, old] as unknown as Line[];
    const hocr = [...hocrDocument([page({ lines })], meta)].join('');
    expect(hocr.match(/class="ocr_par"/g)).toHaveLength(1);
    expect(hocr.match(/class="ocr_line"/g)).toHaveLength(2);
  });

  it('drops characters XML cannot carry', () => {
    const line = page({}).lines[0];
    const odd = page({ lines: [{ ...line, words: [{ ...line.words[0], text: 'a\u0001b\uFFFEc' }] }] });
    expect([...hocrDocument([odd], meta)].join('')).toContain('>abc</span>');
  });
});

describe('ALTO', () => {
  it('states its unit and gives strings with word confidence from 0 to 1, spaces between them', () => {
    const alto = [...altoDocument([page({ rotation: 270 })], meta, software)].join('');
    expect(alto).toContain('<MeasurementUnit>pixel</MeasurementUnit>');
    expect(alto).toContain('<Page ID="page_2" PHYSICAL_IMG_NR="2" WIDTH="600" HEIGHT="300" PROCESSINGREFS="ocr" LANG="eng">');
    expect(alto).toContain('<TextBlock ID="block_2_1" HPOS="30" VPOS="30" WIDTH="270" HEIGHT="60" ROTATION="270">');
    expect(alto).toContain('<String ID="string_2_1_1" HPOS="30" VPOS="30" WIDTH="120" HEIGHT="60" CONTENT="Hello" WC="0.95"/>');
    expect(alto).toContain('<SP HPOS="150" VPOS="30" WIDTH="30"/>');
    expect(alto).toContain('CONTENT="&lt;world&gt;" WC="0.88"/>');
  });

  it('gives a page without lines as an empty print space', () => {
    const alto = [...altoDocument([page({ lines: [] })], meta, software)].join('');
    expect(alto).toContain('<PrintSpace HPOS="0" VPOS="0" WIDTH="600" HEIGHT="300">\n      </PrintSpace>');
    expect(alto).not.toContain('<TextBlock');
  });
});
