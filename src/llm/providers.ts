import { LocalReportModel } from './local-model.js';
import type { AnswerModel, LlmConfig } from './types.js';
import { AnthropicMessagesModel } from './wire/anthropic.js';
import { OpenAICompatibleChatModel } from './wire/openai-compatible.js';

const ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1';
const ANTHROPIC_DEFAULT_MODEL = 'claude-sonnet-4-5';

/**
 * The one place a provider is chosen. Settings come only from `config`, never from the environment directly. The
 * providers' clients are report-chat's own: see wire/wire-model.ts for why.
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
      const model = new AnthropicMessagesModel(modelId, { baseUrl: config.baseUrl ?? ANTHROPIC_BASE_URL, apiKey: config.apiKey });
      return { model, id: `anthropic:${modelId}`, citations: 'document' };
    }
    case 'openai-compatible': {
      if (!config.baseUrl || !config.model) {
        throw new Error(
          'The openai-compatible model provider needs a base URL and a model: set LLM_BASE_URL ' +
            '(e.g. http://127.0.0.1:11434/v1, without /chat/completions) and LLM_MODEL.',
        );
      }
      // No key is fine: local servers such as Ollama or llama.cpp accept requests without one.
      const model = new OpenAICompatibleChatModel(config.model, { baseUrl: config.baseUrl, apiKey: config.apiKey });
      return { model, id: `openai-compatible:${config.model}`, citations: 'labels' };
    }
    default: {
      const unknown: never = config.provider;
      throw new Error(`Unknown model provider: ${String(unknown)}`);
    }
  }
}
