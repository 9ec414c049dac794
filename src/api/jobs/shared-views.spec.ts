import { SHARED_VIEW_MS, SharedViews } from './shared-views';

describe('SharedViews', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const counter = () => {
    let builds = 0;
    return { build: async () => ++builds };
  };
  const always = () => true;

  it('gives every poll within SHARED_VIEW_MS the one build, concurrent or not', async () => {
    const views = new SharedViews<number>();
    const c = counter();
    expect(await Promise.all([views.get('a', c.build, always), views.get('a', c.build, always)])).toEqual([1, 1]);
    jest.advanceTimersByTime(SHARED_VIEW_MS - 1);
    expect(await views.get('a', c.build, always)).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await views.get('a', c.build, always)).toBe(2);
    expect(await views.get('b', c.build, always)).toBe(3);
  });

  it('builds afresh once the job changed', async () => {
    const views = new SharedViews<number>();
    const c = counter();
    await views.get('a', c.build, always);
    views.changed('a');
    expect(await views.get('a', c.build, always)).toBe(2);
  });

  it('keeps neither a failed build nor one that may not be shared', async () => {
    const views = new SharedViews<number>();
    await expect(views.get('a', () => Promise.reject(new Error('redis down')), always)).rejects.toThrow('redis down');
    expect(
      await views.get(
        'a',
        async () => 7,
        (n) => n !== 7,
      ),
    ).toBe(7);
    expect(await views.get('a', async () => 8, always)).toBe(8);
    expect(await views.get('a', async () => 9, always)).toBe(8);
  });
});
