import { PageSelectionError, parsePageSelection, selectPages } from './page-selection';

describe('page selection', () => {
  it('selects all pages without a selection', () => {
    expect(selectPages(null, 3)).toEqual([1, 2, 3]);
  });

  it('expands ranges, open ends and repeats into sorted distinct pages', () => {
    expect(selectPages(parsePageSelection('7, 1-3,2, 9-'), 10)).toEqual([1, 2, 3, 7, 9, 10]);
  });

  it.each(['0', '3-1', 'a', '1,,2', '1-2-3', ''])('rejects "%s"', (spec) => {
    expect(() => parsePageSelection(spec)).toThrow(PageSelectionError);
  });

  it('rejects pages beyond the end of the document', () => {
    expect(() => selectPages(parsePageSelection('2-5'), 3)).toThrow('the document has 3 pages');
  });
});
