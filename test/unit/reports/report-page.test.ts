import { sortedPage } from '../../../src/components/reports/report-page';

const byNumber = (a: number, b: number) => a - b;

describe('sortedPage', () => {
  test('when a page inside the list is asked for, then it holds that slice of the sorted lines', () => {
    expect(sortedPage([5, 1, 4, 2, 3], byNumber, 'asc', 2, 2)).toEqual({ items: [3, 4], page: 2, pages: 3 });
  });

  test('when the order is descending, then the lines are reversed before paging', () => {
    expect(sortedPage([5, 1, 4, 2, 3], byNumber, 'desc', 1, 2)).toEqual({ items: [5, 4], page: 1, pages: 3 });
  });

  test('when the page is past the end, then the last page is shown', () => {
    expect(sortedPage([1, 2, 3], byNumber, undefined, 9, 2)).toEqual({ items: [3], page: 2, pages: 2 });
  });

  test('when there are no lines, then there is one empty page', () => {
    expect(sortedPage<number>([], byNumber, 'asc', 1, 50)).toEqual({ items: [], page: 1, pages: 1 });
  });
});
