import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { LocalReportModel } from './local-model.js';
import type { AnswerModel, LlmConfig } from './types.js';

const ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1';
const ANTHROPIC_DEFAULT_MODEL = 'claude-sonnet-4-5';

/**
 * The one place a provider is chosen. Settings come only from `config`: passing the base URL explicitly keeps
 * the SDK from silently picking up ANTHROPIC_BASE_URL from the environment.
 */
export function createAnswerModel(config: LlmConfig): AnswerModel {
  switch (config.provider) {
    case 'local':
      return { model: new LocalReportModel(config.localChunkDelayMs), id: 'local', citations: 'document' };
    case 'anthropic': {
      if (!config.apiKey) {
        throw new Error('The anthropic model provider needs an API key: set LLM_API_KEY or ANTHROPIC_API_KEY.');
      }
      const modelId = config.model ?? ANTHROPIC_DEFAULT_MODEL;
      const provider = createAnthropic({ baseURL: config.baseUrl ?? ANTHROPIC_BASE_URL, apiKey: config.apiKey });
      return { model: provider(modelId), id: `anthropic:${modelId}`, citations: 'document' };
    }
    case 'openai-compatible': {
      if (!config.baseUrl || !config.model) {
        throw new Error(
          'The openai-compatible model provider needs a base URL and a model: set LLM_BASE_URL ' +
            '(e.g. http://127.0.0.1:11434/v1, without /chat/completions) and LLM_MODEL.',
        );
      }
      // No key is fine: local servers such as Ollama or llama.cpp accept requests without one.
      const provider = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: config.baseUrl,
        apiKey: config.apiKey,
        includeUsage: true,
      });
      return { model: provider.chatModel(config.model), id: `openai-compatible:${config.model}`, citations: 'labels' };
    }
    default: {
      const unknown: never = config.provider;
      throw new Error(`Unknown model provider: ${String(unknown)}`);
    }
  }
}
