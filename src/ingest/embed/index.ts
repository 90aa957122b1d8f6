// Builds the configured embedder. One instance per worker process, shared by all jobs,
// so its rate limiter sees the whole process's traffic.
import type { Config } from "../../config.ts";
import type { Embedder } from "../types.ts";
import { createLocalEmbedder, LOCAL_MODEL } from "./local.ts";
import { createOpenAIEmbedder } from "./openai.ts";

const knownDimensions: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

export function createEmbedder(cfg: Config): Embedder {
  if (cfg.EMBEDDING_PROVIDER === "local") {
    if (cfg.EMBEDDING_MODEL && cfg.EMBEDDING_MODEL !== LOCAL_MODEL) {
      throw new Error(`EMBEDDING_MODEL=${cfg.EMBEDDING_MODEL} needs EMBEDDING_PROVIDER=openai (the local embedder is ${LOCAL_MODEL})`);
    }
    return createLocalEmbedder({ dimensions: cfg.EMBEDDING_DIMENSIONS ?? 384 });
  }
  const model = cfg.EMBEDDING_MODEL ?? "text-embedding-3-small";
  const dimensions = cfg.EMBEDDING_DIMENSIONS ?? knownDimensions[model];
  if (!dimensions) throw new Error(`EMBEDDING_DIMENSIONS is required for model "${model}"`);
  return createOpenAIEmbedder({
    apiKey: cfg.OPENAI_API_KEY ?? "unused",
    ...(cfg.OPENAI_BASE_URL ? { baseURL: cfg.OPENAI_BASE_URL } : {}),
    model,
    dimensions,
    sendDimensions: cfg.EMBEDDING_SEND_DIMENSIONS && (cfg.EMBEDDING_DIMENSIONS !== undefined || model.startsWith("text-embedding-3")),
    concurrency: cfg.EMBEDDING_CONCURRENCY,
    maxRetries: cfg.EMBEDDING_MAX_RETRIES,
    ...(cfg.EMBEDDING_TPM ? { tpmLimit: cfg.EMBEDDING_TPM } : {}),
    ...(cfg.EMBEDDING_RPM ? { rpmLimit: cfg.EMBEDDING_RPM } : {}),
  });
}
