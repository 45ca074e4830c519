// The semantic-convention mode from OTEL_SEMCONV_STABILITY_OPT_IN (or an
// argument): dual (old and new attribute names) unless opted in to latest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { semconvMode } from "../../src/core/attributes.ts";
import { withEnv } from "../support/helpers.ts";
import { useConfigEnv } from "../support/config_env.ts";

useConfigEnv(() => {});

test("semconvMode truth table (argument and environment)", async () => {
  const table: [string | undefined, "dual" | "latest"][] = [
    [undefined, "dual"],
    ["", "dual"],
    ["gen_ai_latest_experimental", "latest"],
    ["http/dup,gen_ai_latest_experimental", "latest"],
    [" gen_ai_latest_experimental , http ", "latest"],
    ["gen_ai_latest", "dual"],
    ["database/dup", "dual"],
    ["gen_ai_latest_experimental_x", "dual"],
    ["GEN_AI_LATEST_EXPERIMENTAL", "dual"],
    [",,", "dual"],
  ];
  for (const [value, expected] of table) {
    await withEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: value }, () => {
      assert.equal(semconvMode(), expected, `env ${JSON.stringify(value)}`);
    });
    if (value !== undefined) {
      await withEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: undefined }, () => {
        assert.equal(
          semconvMode(value),
          expected,
          `arg ${JSON.stringify(value)}`,
        );
      });
    }
  }
  // An explicit argument wins over the environment.
  await withEnv(
    { OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental" },
    () => {
      assert.equal(semconvMode(""), "dual");
      assert.equal(semconvMode("http"), "dual");
    },
  );
});
