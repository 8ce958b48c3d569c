using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Reporting;

/// <summary>
/// `uet run` as a process on a real repository with a retry, a quarantine, a rollback, a failure and a block, then the
/// reports it wrote and `uet report` checked number by number against what the state database holds.
/// </summary>
public sealed class ReportEndToEndTests : IDisposable
{
    private const string RunId = "r-rep";
    private readonly TempDirectory _dir = new();
    private readonly string _repo;
    private readonly string _workstreams;

    public ReportEndToEndTests()
    {
        _repo = Path.Combine(_dir.Path, "repo");
        _workstreams = Path.Combine(_dir.Path, "workstreams");
        Directory.CreateDirectory(_workstreams);
        TestRepository.Create(_repo, init: true);
        File.WriteAllText(Path.Combine(_repo, ".uet", "config.yaml"),
            "execution:\n  retry_policy:\n    max_retries: 2\n    backoff_seconds: 0.05\n"
            + "validation:\n  validators:\n    - name: no-todo\n      run: [sh, -c, \"! grep -rq TODO --exclude-dir=.git .\"]\n");
        var marker = Path.Combine(_dir.Path, "flaky.marker");
        Ws("base", """{ "id": "ws-base", "files_scope": ["base.txt"], "command": ["sh", "-c", "echo base > base.txt"], "estimate": "5m" }""");
        Ws("next", """{ "id": "ws-next", "depends_on": ["ws-base"], "files_scope": ["next.txt"], "command": ["sh", "-c", "echo a > next.txt; echo b >> next.txt"], "estimate": "4m" }""");
        Ws("flaky", $$"""{ "id": "ws-flaky", "files_scope": ["flaky.txt"], "command": ["sh", "-c", "if [ -f {{marker}} ]; then echo ok > flaky.txt; else touch {{marker}}; exit 3; fi"], "estimate": "1m" }""");
        Ws("rogue", """{ "id": "ws-rogue", "files_scope": ["docs/"], "command": ["sh", "-c", "echo bad > rogue.txt"], "estimate": "1m" }""");
        Ws("todo", """{ "id": "ws-todo", "files_scope": ["todo.txt"], "command": ["sh", "-c", "echo TODO > todo.txt"], "estimate": "2m" }""");
        Ws("after-todo", """{ "id": "ws-after-todo", "depends_on": ["ws-todo"], "files_scope": ["after.txt"], "command": ["sh", "-c", "echo x > after.txt"] }""");
        Ws("broken", """{ "id": "ws-broken", "circuit_breaker": { "max_attempts": 1 }, "files_scope": ["broken.txt"], "command": ["sh", "-c", "echo broken >&2; exit 4"], "estimate": "1m" }""");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private void Ws(string id, string json) => File.WriteAllText(Path.Combine(_workstreams, $"ws-{id}.json"), json);

    private string Scalar(string sql) => TestRepository.Scalar(_repo, sql);

    private long Long(string sql) => long.Parse(Scalar(sql), CultureInfo.InvariantCulture);

    private string ReportFile(string name) => Path.Combine(_repo, ".uet", "reports", RunId, name);

    [Fact]
    public void Run_WithRetryQuarantineRollbackAndFailure_ReportsEqualTheStore()
    {
        var run = CliRunner.Uet(_repo, "run", _workstreams, "--workers", "2", "--run-id", RunId);
        Assert.True(run.ExitCode == 1, run.ToString());

        // uet run ends with the summary line and the report's path; all four files are there.
        Assert.Contains($"run {RunId} failed in ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("report: " + ReportFile("UET_EXECUTION_REPORT.md"), run.Stdout, StringComparison.Ordinal);
        foreach (var name in new[] { "UET_EXECUTION_REPORT.md", "UET_EXECUTION_REPORT.html", "UET_EXECUTION_REPORT.json", "UET_EXECUTION_REPORT.junit.xml" })
        {
            Assert.True(File.Exists(ReportFile(name)), name);
        }

        // The reports are kept out of git: the user's tree shows nothing new.
        Assert.Equal(string.Empty, CliRunner.Run(_repo, "git", ["status", "--porcelain", "--untracked-files=all", "--", ".uet/reports"]).Stdout.Trim());

        var json = CliRunner.Uet(_repo, "report", RunId, "--format", "json", "--output", "-");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        var report = document.RootElement;
        Assert.Equal("uet.report/1", report.GetProperty("format").GetString());
        Assert.Equal(RunId, report.GetProperty("run_id").GetString());
        Assert.Equal(Scalar($"SELECT state FROM runs WHERE run_id = '{RunId}'"), report.GetProperty("state").GetString());

        // Timings and speedup are the stored durations.
        var wall = Long($"SELECT duration_ms FROM runs WHERE run_id = '{RunId}'");
        var work = Long($"SELECT SUM(duration_ms) FROM tasks WHERE run_id = '{RunId}'");
        var times = report.GetProperty("times");
        Assert.Equal(wall, report.GetProperty("wall_ms").GetInt64());
        Assert.Equal(wall, times.GetProperty("wall_ms").GetInt64());
        Assert.Equal(work, times.GetProperty("work_ms").GetInt64());
        Assert.Equal(Math.Round((double)work / wall, 4), times.GetProperty("speedup_vs_sequential").GetDouble());
        Assert.Equal(Math.Round((double)times.GetProperty("wave_barrier_ms").GetInt64() / wall, 4), times.GetProperty("speedup_vs_wave_barrier").GetDouble());
        // The plan's estimates are uet plan's, for the same workstreams and workers.
        using var plan = JsonDocument.Parse(CliRunner.Uet(_repo, "plan", _workstreams, "--json", "-w", "2").Stdout);
        var estimates = plan.RootElement.GetProperty("estimates");
        Assert.Equal(estimates.GetProperty("sequential_seconds").GetInt64() * 1000, times.GetProperty("estimated_sequential_ms").GetInt64());
        Assert.Equal(estimates.GetProperty("wave_barrier_seconds").GetInt64() * 1000, times.GetProperty("estimated_wave_barrier_ms").GetInt64());
        Assert.Equal(estimates.GetProperty("dispatch_seconds").GetInt64() * 1000, times.GetProperty("estimated_dispatch_ms").GetInt64());
        Assert.Equal(
            plan.RootElement.GetProperty("critical_path").GetProperty("workstreams").EnumerateArray().Select(e => e.GetString()),
            report.GetProperty("critical_path").GetProperty("estimated").GetProperty("workstreams").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(plan.RootElement.GetProperty("wave_count").GetInt32(), report.GetProperty("waves").GetArrayLength());
        Assert.Equal(2, report.GetProperty("workers").GetInt32());

        // Totals by state.
        foreach (var (table, key) in new[] { ("tasks", "tasks_by_state"), ("patches", "patches_by_state") })
        {
            var stored = Rows($"SELECT state, COUNT(*) FROM {table} WHERE run_id = '{RunId}' GROUP BY state");
            var shown = report.GetProperty(key).EnumerateArray().ToDictionary(e => e.GetProperty("state").GetString()!, e => e.GetProperty("count").GetInt64().ToString(CultureInfo.InvariantCulture));
            Assert.Equal(stored.OrderBy(p => p.Key, StringComparer.Ordinal), shown.OrderBy(p => p.Key, StringComparer.Ordinal));
        }

        // One row per workstream, each number the task's and its last patch's.
        var rows = report.GetProperty("workstreams").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!);
        Assert.Equal(7, rows.Count);
        foreach (var (id, row) in rows)
        {
            var task = $"'{RunId}:{id}'";
            Assert.Equal(Scalar($"SELECT state FROM tasks WHERE task_id = {task}"), row.GetProperty("state").GetString());
            Assert.Equal(Long($"SELECT attempts FROM tasks WHERE task_id = {task}"), row.GetProperty("attempts").GetInt64());
            Assert.Equal(Scalar($"SELECT duration_ms FROM tasks WHERE task_id = {task}"), Text(row.GetProperty("duration_ms")));
            Assert.Equal(Scalar($"SELECT worker_id FROM tasks WHERE task_id = {task}"), Text(row.GetProperty("worker")));
            var lastPatch = $"(SELECT patch_id FROM patches WHERE task_id = {task} ORDER BY created_at DESC LIMIT 1)";
            Assert.Equal(Scalar($"SELECT sha256 FROM patches WHERE patch_id = {lastPatch}"), Text(row.GetProperty("patch_sha256")));
            Assert.Equal(Scalar($"SELECT state FROM patches WHERE patch_id = {lastPatch}"), Text(row.GetProperty("patch_state")));
            Assert.Equal(Scalar($"SELECT lines_added FROM patches WHERE patch_id = {lastPatch}"), Text(row.GetProperty("lines_added")));
            Assert.Equal(Scalar($"SELECT COALESCE(json_array_length(files), 0) FROM patches WHERE patch_id = {lastPatch}") is { Length: > 0 } n ? n : "0",
                row.GetProperty("files").GetArrayLength().ToString(CultureInfo.InvariantCulture));
        }

        Assert.Equal("completed", rows["ws-flaky"].GetProperty("state").GetString());
        Assert.Equal(2, rows["ws-flaky"].GetProperty("attempts").GetInt32());
        Assert.Equal("rolled_back", rows["ws-todo"].GetProperty("patch_state").GetString());
        Assert.StartsWith("validator no-todo failed", rows["ws-todo"].GetProperty("validators").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("patch rolled back: validator no-todo failed", rows["ws-todo"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("quarantined", rows["ws-rogue"].GetProperty("patch_state").GetString());
        Assert.Contains("rogue.txt", rows["ws-rogue"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("blocked", rows["ws-after-todo"].GetProperty("state").GetString());
        Assert.Equal("dependency ws-todo failed", rows["ws-after-todo"].GetProperty("reason").GetString());
        Assert.Contains("exit code 4", rows["ws-broken"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("validators passed", rows["ws-next"].GetProperty("validators").GetString());
        Assert.Equal(CliRunner.Run(_repo, "git", ["log", "-1", "--format=%H", "--grep=Uet-Workstream: ws-next", "uet/" + RunId]).Stdout.Trim(), rows["ws-next"].GetProperty("commit").GetString());

        // Incidents: the retry, the quarantine and the rollback, with their reasons.
        var retry = Assert.Single(report.GetProperty("retries").EnumerateArray());
        Assert.Equal("ws-flaky", retry.GetProperty("workstream_id").GetString());
        Assert.Equal(1, retry.GetProperty("attempt").GetInt32());
        Assert.Contains("exit code 3", retry.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("ws-rogue", Assert.Single(report.GetProperty("quarantines").EnumerateArray()).GetProperty("workstream_id").GetString());
        var rollback = Assert.Single(report.GetProperty("rollbacks").EnumerateArray());
        Assert.Equal("ws-todo", rollback.GetProperty("workstream_id").GetString());
        Assert.StartsWith("validator no-todo failed", rollback.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Lanes: one bar per attempt, each as long as its step; busy time per worker is the sum of its steps.
        var bars = report.GetProperty("lanes").EnumerateArray().SelectMany(l => l.GetProperty("bars").EnumerateArray().Select(b => (Lane: l.GetProperty("worker_id").GetString()!, Bar: b))).ToList();
        Assert.Equal(Long($"SELECT COUNT(*) FROM steps WHERE run_id = '{RunId}'"), bars.Count);
        foreach (var (lane, bar) in bars)
        {
            var step = $"'{RunId}:{bar.GetProperty("workstream_id").GetString()}:{bar.GetProperty("attempt").GetInt32()}'";
            Assert.Equal(Long($"SELECT duration_ms FROM steps WHERE step_id = {step}"), bar.GetProperty("end_ms").GetInt64() - bar.GetProperty("start_ms").GetInt64(), 1.0);
            Assert.Equal("worker " + lane, Scalar($"SELECT json_extract(data, '$.reason') FROM events WHERE entity = 'step' AND entity_id = {step} AND to_state = 'running'"));
        }

        foreach (var usage in report.GetProperty("utilization").EnumerateArray())
        {
            var worker = usage.GetProperty("worker_id").GetString();
            var busy = Long($"SELECT SUM(duration_ms) FROM steps s JOIN events e ON e.entity = 'step' AND e.entity_id = s.step_id AND e.to_state = 'running' WHERE s.run_id = '{RunId}' AND json_extract(e.data, '$.reason') = 'worker {worker}'");
            Assert.Equal(busy, usage.GetProperty("busy_ms").GetInt64());
            Assert.Equal((double)busy / wall, usage.GetProperty("share").GetDouble(), 9);
        }

        // The files uet run wrote say the same as uet report (up to the time each was made).
        using var written = JsonDocument.Parse(File.ReadAllText(ReportFile("UET_EXECUTION_REPORT.json")));
        Assert.Equal(report.GetProperty("times").ToString(), written.RootElement.GetProperty("times").ToString());
        Assert.Equal(report.GetProperty("workstreams").ToString(), written.RootElement.GetProperty("workstreams").ToString());

        CheckJunit(XDocument.Load(ReportFile("UET_EXECUTION_REPORT.junit.xml")));
        CheckMarkdown(File.ReadAllText(ReportFile("UET_EXECUTION_REPORT.md")), bars.Count);
        CheckHtml(File.ReadAllText(ReportFile("UET_EXECUTION_REPORT.html")), report.GetProperty("lanes").GetArrayLength(), bars.Count);
    }

    private void CheckJunit(XDocument junit)
    {
        var suite = junit.Root!.Element("testsuite")!;
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(7, cases.Count);
        Assert.Equal("7", suite.Attribute("tests")!.Value);
        Assert.Equal(Scalar($"SELECT COUNT(*) FROM tasks WHERE run_id = '{RunId}' AND state = 'failed'"), suite.Attribute("failures")!.Value);
        Assert.Equal(Scalar($"SELECT COUNT(*) FROM tasks WHERE run_id = '{RunId}' AND state = 'blocked'"), suite.Attribute("skipped")!.Value);
        var failed = cases.Where(c => c.Element("failure") is not null).Select(c => c.Attribute("name")!.Value).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { "ws-broken", "ws-rogue", "ws-todo" }, failed);
        Assert.Equal("rolled_back", cases.Single(c => c.Attribute("name")!.Value == "ws-todo").Element("failure")!.Attribute("type")!.Value);
        Assert.Equal("ws-after-todo", cases.Single(c => c.Element("skipped") is not null).Attribute("name")!.Value);
        var seconds = Long($"SELECT duration_ms FROM tasks WHERE task_id = '{RunId}:ws-base'") / 1000.0;
        Assert.Equal(seconds, double.Parse(cases.Single(c => c.Attribute("name")!.Value == "ws-base").Attribute("time")!.Value, CultureInfo.InvariantCulture), 3);
    }

    private static void CheckMarkdown(string markdown, int attempts)
    {
        Assert.StartsWith($"# uet execution report: {RunId}\n", markdown, StringComparison.Ordinal);
        var start = markdown.IndexOf("```mermaid\ngantt\n", StringComparison.Ordinal);
        Assert.True(start >= 0, markdown);
        var block = markdown[start..markdown.IndexOf("\n```\n", start, StringComparison.Ordinal)];
        Assert.Equal(attempts, block.Split('\n').Count(l => l.Contains(" :done, ", StringComparison.Ordinal) || l.Contains(" :crit, ", StringComparison.Ordinal)));
        foreach (var heading in new[] { "## Speedup", "## Critical path", "## Workstreams", "## Waves", "## Workers", "## Retries", "## Quarantines", "## Rollbacks" })
        {
            Assert.Contains("\n" + heading + "\n", markdown, StringComparison.Ordinal);
        }
    }

    private static void CheckHtml(string html, int lanes, int attempts)
    {
        Assert.Equal(lanes, html.Split("<g class=\"lane\"").Length - 1);
        Assert.Equal(attempts, html.Split("<rect class=\"bar ").Length - 1);
        // One file that opens with no network: nothing loaded from anywhere (the SVG namespace is a name, not a fetch).
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(html.Split("://").Length - 1, html.Split("http://www.w3.org/2000/svg").Length - 1);
    }

    private Dictionary<string, string> Rows(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_repo, ".state", "uet.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            rows[reader.GetString(0)] = Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture)!;
        }

        return rows;
    }

    private static string Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => string.Empty,
        JsonValueKind.String => element.GetString()!,
        _ => element.GetRawText(),
    };
}
