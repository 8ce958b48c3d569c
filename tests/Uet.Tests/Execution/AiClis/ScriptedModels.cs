using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Uet.Tests.Execution.AiClis;

/// <summary>
/// Scripts for <see cref="FakeModelServer"/>, one per API, each making its client write one file: the first turn asks
/// for the edit through the client's own file tool, the turn after the tool's result ends the session. Only as much of
/// each API as the real clients read is spoken (their requests and parsers were read in the installed CLIs).
/// </summary>
internal static partial class ScriptedModels
{
    /// <summary>
    /// OpenAI Responses API (codex, <c>wire_api = "responses"</c>): POST /v1/responses streamed as SSE. The edit is an
    /// <c>exec_command</c> call running <c>apply_patch</c>, which codex intercepts and applies itself.
    /// </summary>
    public static Func<ModelRequest, ModelResponse> OpenAiResponses(string file, string content) => request =>
    {
        if (request.Method != "POST" || !request.Path.StartsWith("/v1/responses", StringComparison.Ordinal))
        {
            return ModelResponse.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "not here: " + request.Path } }, 404);
        }

        var input = request.Body?["input"]?.AsArray() ?? [];
        var answered = input.Any(i => i?["type"]?.GetValue<string>() == "function_call_output");
        var patch = $"*** Begin Patch\n*** Add File: {file}\n+{content}\n*** End Patch\n";
        JsonObject item = answered
            ? new JsonObject
            {
                ["type"] = "message", ["role"] = "assistant", ["id"] = "msg_2",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = "Done." }),
            }
            : new JsonObject
            {
                ["type"] = "function_call", ["id"] = "fc_1", ["call_id"] = "call_1", ["name"] = "exec_command",
                ["arguments"] = new JsonObject { ["cmd"] = $"apply_patch <<'EOF'\n{patch}EOF\n" }.ToJsonString(),
            };
        return ModelResponse.Sse(
        [
            ("response.created", new JsonObject { ["type"] = "response.created", ["response"] = new JsonObject { ["id"] = "resp_1" } }),
            ("response.output_item.done", new JsonObject { ["type"] = "response.output_item.done", ["output_index"] = 0, ["item"] = item }),
            ("response.completed", new JsonObject
            {
                ["type"] = "response.completed",
                ["response"] = new JsonObject
                {
                    ["id"] = "resp_1",
                    ["usage"] = new JsonObject
                    {
                        ["input_tokens"] = 1000, ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                        ["output_tokens"] = 50, ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                        ["total_tokens"] = 1050,
                    },
                },
            }),
        ]);
    };

    /// <summary>
    /// Anthropic Messages API (Claude Code, <c>ANTHROPIC_BASE_URL</c>): POST /v1/messages streamed as SSE. The edit is
    /// a <c>Write</c> tool_use with the absolute path Claude Code itself reports as its working directory; a request
    /// without tools (it titles the session with a small model) gets plain text.
    /// </summary>
    public static Func<ModelRequest, ModelResponse> AnthropicMessages(string file, string content) => request =>
    {
        if (request.Method != "POST" || !request.Path.StartsWith("/v1/messages", StringComparison.Ordinal))
        {
            return ModelResponse.Json(new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = "not_found_error", ["message"] = request.Path } }, 404);
        }

        var body = request.Body!;
        var model = body["model"]?.GetValue<string>() ?? "claude";
        var hasTools = body["tools"] is JsonArray { Count: > 0 };
        var answered = (body["messages"]?.AsArray() ?? []).Any(m => m?["content"] is JsonArray parts && parts.Any(p => p?["type"]?.GetValue<string>() == "tool_result"));
        var system = string.Concat((body["system"] as JsonArray ?? []).Select(b => b?["text"]?.GetValue<string>()));
        var cwd = WorkingDirectory().Match(system) is { Success: true } m ? m.Groups[1].Value : null;

        List<(string?, JsonNode)> events =
        [
            ("message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = "msg_1", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                    ["stop_reason"] = null, ["stop_sequence"] = null,
                    ["usage"] = new JsonObject { ["input_tokens"] = 1000, ["output_tokens"] = 1, ["cache_creation_input_tokens"] = 0, ["cache_read_input_tokens"] = 0 },
                },
            }),
        ];
        string stop;
        if (hasTools && !answered && cwd is not null)
        {
            var input = new JsonObject { ["file_path"] = cwd + "/" + file, ["content"] = content + "\n" }.ToJsonString();
            events.Add(("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_1", ["name"] = "Write", ["input"] = new JsonObject() } }));
            events.Add(("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = input } }));
            stop = "tool_use";
        }
        else
        {
            var text = hasTools ? "Done." : """{"title":"Scripted edit"}""";
            events.Add(("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty } }));
            events.Add(("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text } }));
            stop = "end_turn";
        }

        events.Add(("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 }));
        events.Add(("message_delta", new JsonObject { ["type"] = "message_delta", ["delta"] = new JsonObject { ["stop_reason"] = stop, ["stop_sequence"] = null }, ["usage"] = new JsonObject { ["output_tokens"] = 50 } }));
        events.Add(("message_stop", new JsonObject { ["type"] = "message_stop" }));
        return ModelResponse.Sse(events);
    };

    /// <summary>
    /// Gemini API (Gemini CLI, <c>GOOGLE_GEMINI_BASE_URL</c>): POST /v1beta/models/M:streamGenerateContent?alt=sse. The
    /// edit is a <c>write_file</c> function call with a path relative to the workspace.
    /// </summary>
    public static Func<ModelRequest, ModelResponse> Gemini(string file, string content) => request =>
    {
        if (request.Method != "POST" || !request.Path.Contains(":streamGenerateContent", StringComparison.Ordinal) && !request.Path.Contains(":generateContent", StringComparison.Ordinal))
        {
            return ModelResponse.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = 404, ["message"] = request.Path, ["status"] = "NOT_FOUND" } }, 404);
        }

        var body = request.Body!;
        var hasTools = body["tools"] is JsonArray { Count: > 0 };
        var answered = (body["contents"]?.AsArray() ?? []).Any(c => c?["parts"] is JsonArray parts && parts.Any(p => p?["functionResponse"] is not null));
        JsonNode part = hasTools && !answered
            ? new JsonObject { ["functionCall"] = new JsonObject { ["name"] = "write_file", ["args"] = new JsonObject { ["file_path"] = file, ["content"] = content + "\n" } } }
            : new JsonObject { ["text"] = "Done." };
        var chunk = new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(part) },
                ["finishReason"] = "STOP",
                ["index"] = 0,
            }),
            ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 1000, ["candidatesTokenCount"] = 50, ["totalTokenCount"] = 1050 },
            ["modelVersion"] = "gemini-2.5-flash",
        };
        return request.Path.Contains(":streamGenerateContent", StringComparison.Ordinal) ? ModelResponse.Sse([(null, chunk)]) : ModelResponse.Json(chunk);
    };

    [GeneratedRegex(@"Primary working directory: (\S+)")]
    private static partial Regex WorkingDirectory();
}
