import type { Agent } from 'node:http';
import { UnsupportedFunctionalityError, type LanguageModelV3, type LanguageModelV3CallOptions, type LanguageModelV3StreamResult } from '@ai-sdk/provider';
import { partStreamOf, type PausablePartSource } from '../part-source.js';
import { responseParts, type WireEvents } from './response-parts.js';
import { keepAliveAgent, postForStream } from './post-stream.js';

/** One streaming call as a provider's API wants it: headers, JSON body, and the reader of its events. */
export interface WireCall {
  headers: Record<string, string>;
  body: unknown;
  events: WireEvents;
}

/**
 * A provider's streaming API behind the AI SDK's `LanguageModelV3` interface, which `streamAnswer` and the local
 * model share. report-chat's own client rather than the AI SDK's providers: a streaming answer is the server's
 * hottest loop, and the providers' fetch, five web streams and a validated parse per chunk took 40–47 % of its
 * CPU and ~67 KiB of its memory (BENCHMARKS.md); here it is one socket, one SSE decoder and `JSON.parse`, and
 * `streamAnswer` takes the parts as they are parsed (`openParts`). Answers are only streamed.
 */
export abstract class WireModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly supportedUrls = {};
  abstract readonly provider: string;
  private readonly url: URL;
  private readonly agent: Agent;

  constructor(
    readonly modelId: string,
    baseUrl: string,
    path: string,
  ) {
    this.url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
    this.agent = keepAliveAgent(this.url);
  }

  doGenerate(): never {
    throw new UnsupportedFunctionalityError({ functionality: 'answers are only streamed' });
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    return { stream: partStreamOf(await this.openParts(options)) };
  }

  /** The call of `doStream`, its parts pushed from the socket as they are read rather than through a web stream. */
  async openParts(options: LanguageModelV3CallOptions): Promise<PausablePartSource> {
    const { headers, body, events } = this.call(options);
    const response = await postForStream(this.url, { accept: 'text/event-stream', ...headers }, JSON.stringify(body), this.agent, options.abortSignal);
    return responseParts(response, events);
  }

  protected abstract call(options: LanguageModelV3CallOptions): WireCall;
}
