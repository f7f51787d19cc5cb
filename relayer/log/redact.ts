/**
 * Scrubs secrets out of a serialized log line, whatever key or message carries them: a private
 * key printed inside an error, a viem error that quotes its RPC URL. pino's path redaction only
 * covers fields we name; an error's message is one string, so the line itself is scrubbed.
 */

const REDACTED = '[redacted]';

/** `scheme://user:password@` in any URL, configured or not (a DATABASE_URL quoted by pg, say). */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@"]*:[^\s/@"]*@/gi;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What of a URL is a credential: its user and password, and its path and query (providers put
 * API keys there: `/v2/KEY`, `?apikey=`). A URL with none of them (a local node) stays readable.
 */
export function urlSecrets(value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  const secrets = [url.username, url.password, decodeURIComponent(url.username), decodeURIComponent(url.password)];
  if (url.pathname.length > 1) secrets.push(url.pathname.replace(/\/$/, ''));
  if (url.search.length > 1) secrets.push(url.search.slice(1));
  return secrets;
}

/**
 * A scrubber for `secrets` (private keys, tokens, the credential parts of URLs): each is
 * replaced where it appears in a line, also as JSON escapes it and, for a 0x key, without its
 * prefix. Secrets shorter than 4 characters are not matched (they would blank ordinary words).
 */
export function lineScrubber(secrets: readonly string[]): (line: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    if (/^0x[0-9a-f]+$/i.test(secret)) forms.add(secret.slice(2));
  }
  // Longest first: a secret that contains another is replaced whole.
  const literal = [...forms].filter((form) => form.length >= 4).sort((a, b) => b.length - a.length);
  const pattern = literal.length === 0 ? undefined : new RegExp(literal.map(escapeRegExp).join('|'), 'gi');
  return (line) => {
    const scrubbed = line.replace(USERINFO, `$1${REDACTED}@`);
    return pattern ? scrubbed.replace(pattern, REDACTED) : scrubbed;
  };
}
