/**
 * Wire data of the OpenAI Responses, Anthropic Messages and Gemini APIs,
 * copied verbatim from the providers' API references and from the official
 * SDKs' test data (recordings of the live APIs where the SDK has them). Each
 * constant names its source: repository, path and commit, or the page.
 * Nothing here is made up; where a source elides part of an example, the
 * comment says what was filled in and how.
 *
 * @module
 */

// --- OpenAI Responses ------------------------------------------------------

/**
 * The streamed answer of `POST /v1/responses`, up to its terminal event:
 * the OpenAI API reference, Responses, "Create a model response", streaming
 * example (https://platform.openai.com/docs/api-reference/responses/create;
 * also in the streaming guide). The page shows the first
 * `response.output_text.delta` ("Hi") and elides the rest with `...`; the
 * one delta after it carries the remaining text, so that the deltas add up
 * to the page's `response.output_text.done`. (The page predates
 * `sequence_number`, which the openai client does not need.)
 */
export const RESPONSES_STREAM_BODY =
  'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}\n\nevent: response.in_progress\ndata: {"type":"response.in_progress","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}\n\nevent: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]}}\n\nevent: response.content_part.added\ndata: {"type":"response.content_part.added","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}\n\nevent: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi"}\n\nevent: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" there! How can I assist you today?"}\n\nevent: response.output_text.done\ndata: {"type":"response.output_text.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there! How can I assist you today?"}\n\nevent: response.content_part.done\ndata: {"type":"response.content_part.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}}\n\nevent: response.output_item.done\ndata: {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}}\n\n';

/** The terminal `response.completed` of that example, verbatim. */
export const RESPONSES_COMPLETED_EVENT =
  '{"type":"response.completed","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":37,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}}';

/**
 * The `error` event of the OpenAI API reference, Responses streaming
 * events (https://platform.openai.com/docs/api-reference/responses-streaming/error).
 */
export const RESPONSES_ERROR_EVENT =
  '{\n  "type": "error",\n  "code": "ERR_SOMETHING",\n  "message": "Something went wrong",\n  "param": null,\n  "sequence_number": 1\n}';

/**
 * A `Response` recorded from the live API by the openai-python tests
 * ("all the snapshots in this file are auto-generated from the live API"):
 * openai/openai-python tests/lib/responses/test_responses.py
 * `test_output_text`, commit 0556d5907ce6110beddbad36fb6838bb2b0d16be.
 */
export const RESPONSES_LIVE_JSON =
  '{"id": "resp_689a0b2545288193953c892439b42e2800b2e36c65a1fd4b", "object": "response", "created_at": 1754925861, "status": "completed", "background": false, "error": null, "incomplete_details": null, "instructions": null, "max_output_tokens": null, "max_tool_calls": null, "model": "gpt-4o-mini-2024-07-18", "output": [{"id": "msg_689a0b2637b08193ac478e568f49e3f900b2e36c65a1fd4b", "type": "message", "status": "completed", "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "I can\'t provide real-time updates, but you can easily check the current weather in San Francisco using a weather website or app. Typically, San Francisco has cool, foggy summers and mild winters, so it\'s good to be prepared for variable weather!"}], "role": "assistant"}], "parallel_tool_calls": true, "previous_response_id": null, "prompt_cache_key": null, "reasoning": {"effort": null, "summary": null}, "safety_identifier": null, "service_tier": "default", "store": true, "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto", "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": {"input_tokens": 14, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 50, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 64}, "user": null, "metadata": {}}';

// --- Anthropic Messages ------------------------------------------------------

/**
 * A streamed `POST /v1/messages` answer recorded from api.anthropic.com by
 * the anthropic-sdk-python tests, byte for byte (note the blanks the API
 * puts before an event's closing brace, and `{"type": "ping"}`):
 * anthropics/anthropic-sdk-python
 * tests/lib/_parse/__inline_snapshot__/test_messages/TestAsyncStream/a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json
 * (third interaction, the 200), commit 1eaae19fbcf443678966831f7a78ce08e3672243.
 */
export const MESSAGES_STREAM_BODY =
  'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_013nnniYDrJDocdy5nrMU7cH","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard","inference_geo":"not_available"}}   }\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}     }\n\nevent: ping\ndata: {"type": "ping"}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"["}             }\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"12"}   }\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"345,"}    }\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"67890]"}               }\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0        }\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}             }\n\nevent: message_stop\ndata: {"type":"message_stop"              }\n\n';

/**
 * A `Message` recorded from api.anthropic.com by the same tests:
 * tests/lib/_parse/__inline_snapshot__/test_messages/TestSyncParse/bd7029d5-d8d4-4e06-be3a-2ac9c60803a6.json,
 * commit 1eaae19fbcf443678966831f7a78ce08e3672243.
 */
export const MESSAGES_LIVE_JSON = {
  "model": "claude-sonnet-4-5-20250929",
  "id": "msg_01T4jd6NyD9xGGtTPDC4ogy5",
  "type": "message",
  "role": "assistant",
  "content": [
    {
      "type": "text",
      "text":
        '{"items":[{"product_name":"Green Tea","price":5.50,"quantity":2},{"product_name":"Coffee","price":3.00,"quantity":1}],"total":14.0}',
    },
  ],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 406,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation": {
      "ephemeral_5m_input_tokens": 0,
      "ephemeral_1h_input_tokens": 0,
    },
    "output_tokens": 50,
    "service_tier": "standard",
    "inference_geo": "not_available",
  },
};

/**
 * The `error` event of Anthropic's "Streaming Messages" page, "Error
 * events" (https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events).
 */
export const MESSAGES_ERROR_EVENT =
  'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n';

/**
 * Anthropic's "Streaming Messages" page, "Streaming request with extended
 * thinking", the response
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming#streaming-request-with-extended-thinking):
 * `thinking_delta`s, a `signature_delta`, then text; neither
 * `message_start` nor `message_delta` has a `usage` here.
 */
export const MESSAGES_THINKING_BODY =
  'event: message_start\ndata: {"type": "message_start", "message": {"id": "msg_01...", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-1-20250805", "stop_reason": null, "stop_sequence": null}}\n\nevent: content_block_start\ndata: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me solve this step by step:\\n\\n1. First break down 27 * 453"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n2. 453 = 400 + 50 + 3"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n3. 27 * 400 = 10,800"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n4. 27 * 50 = 1,350"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n5. 27 * 3 = 81"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n6. 10,800 + 1,350 + 81 = 12,231"}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}\n\nevent: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\nevent: content_block_start\ndata: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}\n\nevent: content_block_delta\ndata: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "27 * 453 = 12,231"}}\n\nevent: content_block_stop\ndata: {"type": "content_block_stop", "index": 1}\n\nevent: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}\n\nevent: message_stop\ndata: {"type": "message_stop"}\n\n';

/**
 * A stream whose `message_delta` carries the cumulative usage, cache reads
 * and writes and thinking tokens included (it replaces `message_start`'s):
 * anthropics/anthropic-sdk-python
 * tests/lib/streaming/fixtures/message_delta_fields_response.txt, commit
 * d2e7c4e4275ac83004f414d73d9b366ff45d73e0 (it ends without a blank line).
 */
export const MESSAGES_USAGE_FIELDS_BODY =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01MessageDeltaFields00000001","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"stop_details":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there!"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":{"id":"container_01AbCdEfGh","expires_at":"2025-01-01T00:00:00Z"}},"usage":{"input_tokens":40,"cache_creation_input_tokens":12,"cache_read_input_tokens":7,"output_tokens":8,"output_tokens_details":{"thinking_tokens":3},"server_tool_use":{"web_search_requests":1,"web_fetch_requests":0}}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n';

// --- Gemini ---------------------------------------------------------------------

/**
 * The chunks of a `:streamGenerateContent?alt=sse` answer recorded from
 * generativelanguage.googleapis.com by the js-genai system tests:
 * googleapis/js-genai
 * test/system/recordings/Client_Tests_generateContentStream_ML_Dev_should_stream_generate_content_with_specified_parameters.json,
 * commit 6e9b35c45e21f0d37179a24d29dca01ebed698e6. The recording keeps each
 * event's parsed data (`bodySegments`), not the framing: each is one
 * `data:` line here.
 */
export const GEMINI_STREAM_CHUNKS = [
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "text":
                "The sky is blue primarily due to a phenomenon called **Rayleigh Scattering**.\n\nHere's a breakdown of why it happens:\n\n1.  **Sunlight is White Light:** The light from the sun appears white to us, but it's",
            },
          ],
          "role": "model",
        },
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "qS77aMCqBu6mvr0PsJiykAw",
    "turnToken":
      "v1:ChdxUzc3YU1DcUJ1Nm12cjBQc0ppeWtBdxIXcVM3N2FNQ3FCdTZtdnIwUHNKaXlrQXc",
    "usageMetadata": {
      "candidatesTokenCount": 51,
      "promptTokenCount": 7,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 7,
        },
      ],
      "thoughtsTokenCount": 45,
      "totalTokenCount": 103,
    },
  },
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "text":
                " actually made up of all the colors of the rainbow (red, orange, yellow, green, blue, indigo, violet). Each color has a different wavelength – red has the longest wavelength, and blue/violet have the shortest.\n\n2.  **",
            },
          ],
          "role": "model",
        },
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "qS77aMCqBu6mvr0PsJiykAw",
    "turnToken":
      "v1:ChdxUzc3YU1DcUJ1Nm12cjBQc0ppeWtBdxIXcVM3N2FNQ3FCdTZtdnIwUHNKaXlrQXc",
    "usageMetadata": {
      "candidatesTokenCount": 102,
      "promptTokenCount": 7,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 7,
        },
      ],
      "thoughtsTokenCount": 45,
      "totalTokenCount": 154,
    },
  },
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "text":
                "Earth's Atmosphere:** Our planet is surrounded by a layer of gases (mostly nitrogen and oxygen) and tiny particles.\n\n3.  **Scattering:** When sunlight enters the Earth's atmosphere, it collides with these gas molecules and particles.",
            },
          ],
          "role": "model",
        },
        "finishReason": "MAX_TOKENS",
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "qS77aMCqBu6mvr0PsJiykAw",
    "turnToken":
      "v1:ChdxUzc3YU1DcUJ1Nm12cjBQc0ppeWtBdxIXcVM3N2FNQ3FCdTZtdnIwUHNKaXlrQXc",
    "usageMetadata": {
      "candidatesTokenCount": 153,
      "promptTokenCount": 7,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 7,
        },
      ],
      "thoughtsTokenCount": 45,
      "totalTokenCount": 205,
    },
  },
];

/**
 * A `generateContent` answer recorded the same way (thinking on, cut at
 * `MAX_TOKENS`): test/system/recordings/Client_Tests_generateContent_ML_Dev_should_generate_content_with_retry_options_provided_to_the_client.json,
 * commit ca8f9f89b5aebcac5de77a092ee7af9627c2cc9d.
 */
export const GEMINI_LIVE_JSON = {
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text":
              "The sky appears blue because of something called **Rayleigh scattering**. Here's a breakdown of how it works:\n\n1.  **Sunlight is White Light:** The light that comes from the sun appears white to us, but it's actually made up of all the colors of the rainbow (red, orange, yellow, green, blue, indigo, violet). Each of these colors has a different wavelength – blue and violet light have shorter, smaller wavelengths, while red and orange light have longer, larger wavelengths.\n\n2.  **Earth's Atmosphere:** Our planet is surrounded by an atmosphere made up of tiny gas molecules (like nitrogen and oxygen) and small particles.\n\n3.  **Scattering:** When sunlight enters the atmosphere, it bumps into these gas",
          },
        ],
        "role": "model",
      },
      "finishReason": "MAX_TOKENS",
      "index": 0,
    },
  ],
  "modelVersion": "gemini-2.5-flash",
  "responseId": "cS4WaZXcHp7nz7IPjcjT2Ao",
  "usageMetadata": {
    "candidatesTokenCount": 157,
    "promptTokenCount": 7,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 7,
      },
    ],
    "thoughtsTokenCount": 41,
    "totalTokenCount": 205,
  },
};

/**
 * A `generateContent` answer with a thought part (`"thought": true`) and no
 * `candidatesTokenCount`: test/system/recordings/Client_Tests_test_thinking_generate_content_should_return_thought_field.json,
 * commit 6e9b35c45e21f0d37179a24d29dca01ebed698e6.
 */
export const GEMINI_THOUGHT_JSON = {
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text":
              "**Breaking Down the Sum of Natural Numbers**\n\nOkay, so I'm looking at this problem, and my first instinct, as always, is to pinpoint the central question. They're asking for the *sum* of natural numbers, specifically from some starting point. That \"sum\" is the crucial term, isn't it? It implies an arithmetic progression, and that immediately starts to pull up memories of those elegant summation formulas. Now, I need to figure out the starting and ending points of this sequence. Is it a standard 1 to n, or is it from a different value?\n",
            "thought": true,
          },
        ],
        "role": "model",
      },
      "finishReason": "MAX_TOKENS",
      "index": 0,
    },
  ],
  "modelVersion": "gemini-2.0-flash-thinking-exp-01-21",
  "responseId": "zi77aPQDsqLV7w_tk62YBQ",
  "turnToken":
    "v1:ChZ6aTc3YVBRRHNxTFY3d190azYyWUJREhZ6aTc3YVBRRHNxTFY3d190azYyWUJR",
  "usageMetadata": {
    "promptTokenCount": 17,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 17,
      },
    ],
    "thoughtsTokenCount": 19,
    "totalTokenCount": 36,
  },
};

/**
 * Chunks 1, 2, 3 and 12 (the last) of a streamed answer with server-side
 * tools: the function call's chunk already has `finishReason: "STOP"`,
 * the answer goes on after it, and the later chunks carry
 * `cachedContentTokenCount` and `toolUsePromptTokenCount`:
 * test/system/recordings/Chats_Tests_sendMessage_multiple_messages_with_server_side_MCP_tools_stream.json
 * (second interaction), commit 6e9b35c45e21f0d37179a24d29dca01ebed698e6.
 */
export const GEMINI_TOOLS_STREAM_CHUNKS = [
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "functionCall": {
                "args": {
                  "endDate": "2026-02-02",
                  "location": "Boston",
                  "startDate": "2026-02-02",
                },
                "name": "weather_server_get_weather",
              },
            },
          ],
          "role": "model",
        },
        "finishMessage": "Model generated function call(s).",
        "finishReason": "STOP",
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "PmuSafLFBeCsjrEPiOG92QU",
    "turnToken":
      "v1_ChdQbXVTYWZMRkJlQ3NqckVQaU9HOTJRVRIXUG11U2FmTEZCZUNzanJFUGlPRzkyUVU",
    "usageMetadata": {
      "candidatesTokenCount": 47,
      "promptTokenCount": 1844,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1844,
        },
      ],
      "thoughtsTokenCount": 91,
      "totalTokenCount": 1982,
    },
  },
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "functionResponse": {
                "name": "weather_server_get_weather",
                "response": {
                  "call_tool_result_json":
                    '{"meta":null,"content":[{"type":"text","text":"{\\"2026-02-02T00:00\\":\\"-7.9°C\\",\\"2026-02-02T01:00\\":\\"-8.3°C\\",\\"2026-02-02T02:00\\":\\"-9.3°C\\",\\"2026-02-02T03:00\\":\\"-9.6°C\\",\\"2026-02-02T04:00\\":\\"-10.2°C\\",\\"2026-02-02T05:00\\":\\"-10.1°C\\",\\"2026-02-02T06:00\\":\\"-10.7°C\\",\\"2026-02-02T07:00\\":\\"-11.2°C\\",\\"2026-02-02T08:00\\":\\"-11.1°C\\",\\"2026-02-02T09:00\\":\\"-11.3°C\\",\\"2026-02-02T10:00\\":\\"-11.3°C\\",\\"2026-02-02T11:00\\":\\"-11.1°C\\",\\"2026-02-02T12:00\\":\\"-12.8°C\\",\\"2026-02-02T13:00\\":\\"-11.5°C\\",\\"2026-02-02T14:00\\":\\"-7.6°C\\",\\"2026-02-02T15:00\\":\\"-5.5°C\\",\\"2026-02-02T16:00\\":\\"-3.7°C\\",\\"2026-02-02T17:00\\":\\"-2.3°C\\",\\"2026-02-02T18:00\\":\\"-1°C\\",\\"2026-02-02T19:00\\":\\"-0.1°C\\",\\"2026-02-02T20:00\\":\\"0.1°C\\",\\"2026-02-02T21:00\\":\\"-0.6°C\\",\\"2026-02-02T22:00\\":\\"-1.7°C\\",\\"2026-02-02T23:00\\":\\"-3.2°C\\"}","annotations":null,"meta":null}],"structuredContent":null,"isError":false}',
                  "result":
                    '{"2026-02-02T00:00":"-7.9°C","2026-02-02T01:00":"-8.3°C","2026-02-02T02:00":"-9.3°C","2026-02-02T03:00":"-9.6°C","2026-02-02T04:00":"-10.2°C","2026-02-02T05:00":"-10.1°C","2026-02-02T06:00":"-10.7°C","2026-02-02T07:00":"-11.2°C","2026-02-02T08:00":"-11.1°C","2026-02-02T09:00":"-11.3°C","2026-02-02T10:00":"-11.3°C","2026-02-02T11:00":"-11.1°C","2026-02-02T12:00":"-12.8°C","2026-02-02T13:00":"-11.5°C","2026-02-02T14:00":"-7.6°C","2026-02-02T15:00":"-5.5°C","2026-02-02T16:00":"-3.7°C","2026-02-02T17:00":"-2.3°C","2026-02-02T18:00":"-1°C","2026-02-02T19:00":"-0.1°C","2026-02-02T20:00":"0.1°C","2026-02-02T21:00":"-0.6°C","2026-02-02T22:00":"-1.7°C","2026-02-02T23:00":"-3.2°C"}',
                },
              },
            },
          ],
          "role": "model",
        },
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "PmuSafLFBeCsjrEPiOG92QU",
    "turnToken":
      "v1_ChdQbXVTYWZMRkJlQ3NqckVQaU9HOTJRVRIXUG11U2FmTEZCZUNzanJFUGlPRzkyUVU",
    "usageMetadata": {
      "candidatesTokenCount": 47,
      "promptTokenCount": 1844,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1844,
        },
      ],
      "thoughtsTokenCount": 91,
      "totalTokenCount": 1982,
    },
  },
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "text": "Here's the",
            },
          ],
          "role": "model",
        },
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "PmuSafLFBeCsjrEPiOG92QU",
    "turnToken":
      "v1_ChdQbXVTYWZMRkJlQ3NqckVQaU9HOTJRVRIXUG11U2FmTEZCZUNzanJFUGlPRzkyUVU",
    "usageMetadata": {
      "cacheTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 901,
        },
      ],
      "cachedContentTokenCount": 901,
      "candidatesTokenCount": 51,
      "promptTokenCount": 1844,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1844,
        },
      ],
      "thoughtsTokenCount": 91,
      "toolUsePromptTokenCount": 1934,
      "toolUsePromptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1934,
        },
      ],
      "totalTokenCount": 3920,
    },
  },
  {
    "candidates": [
      {
        "content": {
          "parts": [
            {
              "text": "6°C\n* 22:00: -1.7°C\n* 23:00: -3.2°C",
            },
          ],
          "role": "model",
        },
        "finishReason": "STOP",
        "index": 0,
      },
    ],
    "modelVersion": "gemini-2.5-flash",
    "responseId": "PmuSafLFBeCsjrEPiOG92QU",
    "turnToken":
      "v1_ChdQbXVTYWZMRkJlQ3NqckVQaU9HOTJRVRIXUG11U2FmTEZCZUNzanJFUGlPRzkyUVU",
    "usageMetadata": {
      "cacheTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 901,
        },
      ],
      "cachedContentTokenCount": 901,
      "candidatesTokenCount": 432,
      "promptTokenCount": 1844,
      "promptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1844,
        },
      ],
      "thoughtsTokenCount": 91,
      "toolUsePromptTokenCount": 1934,
      "toolUsePromptTokensDetails": [
        {
          "modality": "TEXT",
          "tokenCount": 1934,
        },
      ],
      "totalTokenCount": 4301,
    },
  },
];

/**
 * How an error arrives in the middle of a Gemini stream: the error object
 * on its own, without `data:` framing, after a `data:` event; the js-genai
 * client checks every network chunk for it. googleapis/js-genai
 * test/unit/api_client_test.ts, "should throw an error if encountering an
 * error while parsing the chunk", commit 6e9b35c45e21f0d37179a24d29dca01ebed698e6.
 */
export const GEMINI_STREAM_ERROR_TEXT =
  '{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}';
