using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Telemetry;

/// <summary>
/// `uet run` as a process with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a small OTLP/HTTP receiver in the test: the
/// spans arrive as protobuf with their parent links (run > task > attempt > tool call / patch apply > validator),
/// the task counter arrives as a metric, and the JSON lines log holds the same spans.
/// </summary>
public sealed class OtlpExportTests : IDisposable
{
    private const string RunId = "r-otel";
    private readonly TempDirectory _dir = new();
    private readonly string _repo;
    private readonly string _workstreams;

    public OtlpExportTests()
    {
        _repo = Path.Combine(_dir.Path, "repo");
        _workstreams = Path.Combine(_dir.Path, "workstreams");
        Directory.CreateDirectory(_workstreams);
        TestRepository.Create(_repo, init: true);
        File.WriteAllText(Path.Combine(_repo, ".uet", "config.yaml"), "validation:\n  validators:\n    - name: check\n      run: [\"true\"]\n");
        File.WriteAllText(Path.Combine(_workstreams, "ws-a.json"), """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
        File.WriteAllText(Path.Combine(_workstreams, "ws-b.json"), """{ "id": "ws-b", "depends_on": ["ws-a"], "files_scope": ["b.txt"], "command": ["sh", "-c", "echo b > b.txt"] }""");
        File.WriteAllText(Path.Combine(_workstreams, "ws-c.json"), """{ "id": "ws-c", "files_scope": ["c.txt"], "command": ["sh", "-c", "echo c > c.txt"] }""");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public async Task Run_WithOtlpEndpoint_ExportsSpansWithParentsAndTaskMetrics()
    {
        using var receiver = new OtlpReceiver();
        var result = CliRunner.UetWithEnvironment(_repo, new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint }, "run", _workstreams, "-w", "2", "--run-id", RunId);
        Assert.True(result.ExitCode == 0, result.ToString());
        var requests = await receiver.StopAsync();

        var spans = requests.Where(r => r.Path == "/v1/traces").SelectMany(r => OtlpProtobuf.Spans(r.Body)).ToList();
        Assert.Equal("application/x-protobuf", requests.First(r => r.Path == "/v1/traces").ContentType);
        var run = Assert.Single(spans, s => s.Name == "uet.run");
        Assert.Null(run.ParentSpanId);
        Assert.Equal(RunId, run.Attributes["uet.run_id"]);
        Assert.All(spans, s => Assert.Equal(run.TraceId, s.TraceId));
        var byId = spans.ToDictionary(s => s.SpanId);
        string ParentName(OtlpSpan s) => byId[s.ParentSpanId!].Name;

        var tasks = spans.Where(s => s.Name == "uet.task").ToList();
        Assert.Equal(new[] { "ws-a", "ws-b", "ws-c" }, tasks.Select(t => t.Attributes["uet.workstream_id"]).Order(StringComparer.Ordinal));
        Assert.All(tasks, t => Assert.Equal(run.SpanId, t.ParentSpanId));
        var attempts = spans.Where(s => s.Name == "uet.attempt").ToList();
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("uet.task", ParentName(a)));
        Assert.All(attempts, a => Assert.Equal(a.Attributes["uet.workstream_id"], byId[a.ParentSpanId!].Attributes["uet.workstream_id"]));
        var tools = spans.Where(s => s.Name == "uet.tool").ToList();
        Assert.Equal(3, tools.Count);
        Assert.All(tools, t => Assert.Equal("uet.attempt", ParentName(t)));
        Assert.All(tools, t => Assert.Equal("sh", t.Attributes["uet.program"]));
        var applies = spans.Where(s => s.Name == "uet.patch.apply").ToList();
        Assert.Equal(3, applies.Count);
        Assert.All(applies, a => Assert.Equal("uet.attempt", ParentName(a)));
        Assert.Equal(
            TestRepository.Scalar(_repo, $"SELECT group_concat(sha256, ',') FROM (SELECT sha256 FROM patches WHERE run_id = '{RunId}' ORDER BY sha256)"),
            string.Join(',', applies.Select(a => a.Attributes["uet.patch.sha256"]).Order(StringComparer.Ordinal)));
        var validators = spans.Where(s => s.Name == "uet.validator").ToList();
        Assert.Equal(3, validators.Count);
        Assert.All(validators, v => Assert.Equal("uet.patch.apply", ParentName(v)));
        Assert.All(validators, v => Assert.Equal(v.Attributes["uet.workstream_id"], byId[v.ParentSpanId!].Attributes["uet.workstream_id"]));
        Assert.All(validators, v => Assert.Equal("check", v.Attributes["uet.validator"]));
        Assert.All(spans.Where(s => s.ParentSpanId is not null), s => Assert.True(s.StartNanos >= byId[s.ParentSpanId!].StartNanos && s.EndNanos <= byId[s.ParentSpanId!].EndNanos, s.Name));

        // Metrics: the counter of tasks by state.
        Assert.Contains(requests, r => r.Path == "/v1/metrics" && Encoding.UTF8.GetString(r.Body).Contains("uet.tasks", StringComparison.Ordinal));

        // The JSON lines log beside the attempts' logs holds the very same spans.
        var lines = File.ReadAllLines(Path.Combine(_repo, "logs", "uet", RunId, "telemetry.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(
            spans.Select(s => $"{s.Name} {s.SpanId} {s.ParentSpanId}").Order(StringComparer.Ordinal),
            lines.Select(l => $"{l.GetProperty("name").GetString()} {l.GetProperty("span_id").GetString()} {(l.TryGetProperty("parent_span_id", out var p) ? p.GetString() : null)}").Order(StringComparer.Ordinal));
        // State changes are events of the span they happen in: a task completes inside its last attempt.
        Assert.Contains(lines, l => l.GetProperty("name").GetString() == "uet.attempt" && l.TryGetProperty("events", out var events)
            && events.EnumerateArray().Any(e => e.GetProperty("name").GetString() == "task.completed"));
    }

    private sealed record Request(string Path, string? ContentType, byte[] Body);

    /// <summary>An OTLP/HTTP receiver: accepts POSTs on 127.0.0.1 and keeps their bodies.</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly List<Request> _requests = [];
        private readonly Task _loop;

        public OtlpReceiver()
        {
            var port = FreePort();
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Endpoint { get; }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (_requests)
                {
                    _requests.Add(new Request(context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
                }

                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }

        public async Task<IReadOnlyList<Request>> StopAsync()
        {
            _listener.Stop();
            await _loop;
            lock (_requests)
            {
                return _requests.ToList();
            }
        }

        public void Dispose() => _listener.Close();

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
    }
}
