import { secureHeaders } from 'hono/secure-headers';

/** Everything the pages load comes from this server; inline styles only (React and the API reference set them). */
const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/**
 * The policy with extra script sources: a page that must run one inline script of its own allows exactly that
 * script by its hash. The page sets the header itself; `securityHeaders` keeps a policy a handler has set.
 */
export function contentSecurityPolicy(extraScriptSrc: string[] = []): string {
  const directives = { ...CSP, scriptSrc: [...CSP.scriptSrc, ...extraScriptSrc] };
  return Object.entries(directives)
    .map(([name, values]) => `${name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} ${values.join(' ')}`)
    .join('; ');
}

/** The headers every response carries, errors and streams included; nothing beyond these five. */
export function securityHeaders() {
  return secureHeaders({
    contentSecurityPolicy: CSP,
    xContentTypeOptions: true,
    referrerPolicy: 'no-referrer',
    xFrameOptions: 'DENY',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    overwrite: false,
  });
}
