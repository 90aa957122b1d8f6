import { expect } from "vitest";
import { ExtractionError } from "../../src/ingest/types.ts";

/** Asserts that `fn` throws ExtractionError("empty"). */
export function expectEmpty(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ExtractionError);
  expect((caught as ExtractionError).reason).toBe("empty");
}
