// url.query as recorded: credential-looking values are REDACTED (the HTTP
// semantic conventions' list and the usual key/token names), the rest kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { redactQuery } from "../../src/core/url.ts";

test("redactQuery: credential values replaced, other parameters kept as sent", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["a=1&b=2", "a=1&b=2"],
    ["api_key=sk-123&model=m", "api_key=REDACTED&model=m"],
    ["API-KEY=x", "API-KEY=REDACTED"],
    ["apikey=x&key=y&token=z", "apikey=REDACTED&key=REDACTED&token=REDACTED"],
    [
      "access_token=a&refresh_token=b",
      "access_token=REDACTED&refresh_token=REDACTED",
    ],
    ["X-Goog-Signature=abc&x=1", "X-Goog-Signature=REDACTED&x=1"],
    [
      "AWSAccessKeyId=A&Signature=S&sig=s",
      "AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED",
    ],
    ["password=hunter2", "password=REDACTED"],
    // A parameter without a value, an encoded name, repeated names.
    ["flag&token=t", "flag&token=REDACTED"],
    ["%74oken=t", "%74oken=REDACTED"],
    ["token=a&token=b", "token=REDACTED&token=REDACTED"],
    // Names that only contain a credential word are not credentials.
    ["monkey=1&tokens=5", "monkey=1&tokens=5"],
    // A malformed escape does not throw.
    ["%E0%A4%A=1&key=2", "%E0%A4%A=1&key=REDACTED"],
  ];
  for (const [input, want] of cases) {
    assert.equal(redactQuery(input), want, input);
  }
});
