// Files are only ever read (or deleted) inside the configured storage roots. Paths are
// resolved through symlinks before the check, so a link pointing outside is refused too.
import { realpath } from "node:fs/promises";
import path from "node:path";

export class StoragePathError extends Error {
  override name = "StoragePathError";
  readonly reason: "outside_storage_root" | "not_found";
  constructor(reason: StoragePathError["reason"], message: string) {
    super(message);
    this.reason = reason;
  }
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === "" ? false : !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * Resolves `filePath` (absolute, or relative to the first root) to a real path inside
 * one of `roots`. Throws StoragePathError otherwise.
 */
export async function resolveInsideRoots(filePath: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0) throw new StoragePathError("outside_storage_root", "no storage root is configured (BOTKIT_STORAGE_ROOTS)");
  if (filePath.includes("\0")) throw new StoragePathError("outside_storage_root", "file path contains a NUL byte");
  const candidate = path.resolve(roots[0]!, filePath);
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r))));
  // Check the lexical path first: a path that names a place outside is refused without touching it.
  if (!roots.some((r) => inside(path.resolve(r), candidate)) && !realRoots.some((r) => inside(r, candidate))) {
    throw new StoragePathError("outside_storage_root", `file path "${filePath}" is outside the storage roots`);
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new StoragePathError("not_found", `file "${filePath}" does not exist in the storage roots`);
  }
  if (!realRoots.some((r) => inside(r, real))) {
    throw new StoragePathError("outside_storage_root", `file path "${filePath}" resolves outside the storage roots`);
  }
  return real;
}
