/**
 * The compiler builds its parser without Chevrotain's grammar checks (they cost start-up time and
 * can only fail when src/frontend/parser.ts changes): this test runs them on the real grammar.
 */
import { CstParser, createToken } from 'chevrotain';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DlParser } from '../../src/frontend/parser.js';

// Chevrotain's checks use Object.groupBy (Node 21+); on Node 20 the test supplies it for its run.
type GroupBy = <T>(items: Iterable<T>, key: (item: T, i: number) => PropertyKey) => Record<PropertyKey, T[]>;
const O = Object as unknown as { groupBy?: GroupBy };
const hadGroupBy = typeof O.groupBy === 'function';
beforeAll(() => {
  if (hadGroupBy) return;
  O.groupBy = (items, key) => {
    const out: Record<PropertyKey, unknown[]> = Object.create(null);
    let i = 0;
    for (const item of items) (out[key(item, i++)] ??= []).push(item);
    return out as never;
  };
});
afterAll(() => {
  if (!hadGroupBy) delete O.groupBy;
});

describe('the .dl grammar', () => {
  test('passes Chevrotain’s grammar checks (no ambiguity, left recursion or duplicate production)', () => {
    // performSelfAnalysis throws "Parser Definition Errors detected" when a check fails.
    expect(() => new DlParser({ validate: true })).not.toThrow();
  });

  test('the checks run: an ambiguous grammar is rejected the same way', () => {
    const A = createToken({ name: 'A', pattern: /a/ });
    class Ambiguous extends CstParser {
      constructor() {
        super([A], { skipValidations: false });
        this.performSelfAnalysis();
      }
      top = this.RULE('top', () => {
        this.OR([{ ALT: () => this.CONSUME(A) }, { ALT: () => this.CONSUME2(A) }]);
      });
    }
    expect(() => new Ambiguous()).toThrow(/Ambiguous Alternatives Detected/);
  });
});
