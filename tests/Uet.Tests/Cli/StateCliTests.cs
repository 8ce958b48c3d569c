using System.Text.Json;
using Microsoft.Data.Sqlite;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Cli;

/// <summary>The state commands as processes, on a real repository and a real SQLite file.</summary>
public sealed class StateCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public StateCliTests()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
    }

    private string Db => Path.Combine(_dir.Path, ".state", "uet.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private CliResult Uet(params string[] args) => CliRunner.Uet(_dir.Path, args);

    private CliResult Ok(params string[] args)
    {
        var result = Uet(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private long Count(string sql) => Convert.ToInt64(Scalar(sql), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Init_ThenSpawn3_SixTablesAndThreeIdleWorkers()
    {
        Ok("init");
        foreach (var table in new[] { "runs", "steps", "workers", "patches", "tasks", "events" })
        {
            Assert.Equal(1, Count($"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }

        Ok("workers", "spawn", "3");

        Assert.Equal(3, Count("SELECT COUNT(*) FROM workers WHERE state = 'IDLE'"));
        Assert.Equal(6, Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public void CrashBetweenStateAndEvent_NothingOfThatTransactionRemains()
    {
        Ok("init");
        Ok("workers", "spawn", "2");
        var fault = new Dictionary<string, string> { ["UET_FAULT"] = "after-state-written" };

        var spawn = CliRunner.UetWithEnvironment(_dir.Path, fault, "workers", "spawn", "1");
        var drain = CliRunner.UetWithEnvironment(_dir.Path, fault, "workers", "drain");

        Assert.NotEqual(0, spawn.ExitCode);
        Assert.NotEqual(0, drain.ExitCode);
        Assert.Contains("UET_FAULT: crashing at after-state-written", spawn.Stderr, StringComparison.Ordinal);
        Assert.Contains("UET_FAULT: crashing at after-state-written", drain.Stderr, StringComparison.Ordinal);
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
        Assert.Equal(2, Count("SELECT COUNT(*) FROM workers"));
        Assert.Equal(2, Count("SELECT COUNT(*) FROM workers WHERE state = 'IDLE'"));
        Assert.Equal(4, Count("SELECT COUNT(*) FROM events"));
        // Every state a worker is in is the to_state of its last event.
        Assert.Equal(0, Count("SELECT COUNT(*) FROM workers w WHERE w.state <> (SELECT to_state FROM events e WHERE e.entity_id = w.worker_id ORDER BY event_id DESC LIMIT 1)"));
        Ok("workers", "drain");
        Assert.Equal(2, Count("SELECT COUNT(*) FROM workers WHERE state = 'TERMINATED'"));
    }

    [Fact]
    public async Task TwoProcessesWritingAtOnce_BothWaitForTheLockAndSucceed_NeverCorrupt()
    {
        Ok("init");
        Task<CliResult[]> writers;
        using (var holder = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            // A third writer holds the lock while both start, so they really contend; the busy timeout (5 s) must carry them.
            holder.Open();
            using var held = holder.BeginTransaction(deferred: false);
            writers = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => Uet("workers", "spawn", "200"))));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            held.Commit();
        }

        var results = await writers;

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
        Assert.Equal(400, Count("SELECT COUNT(*) FROM workers WHERE state = 'IDLE'"));
        Assert.Equal(800, Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public void Status_OnAFileThatIsNotADatabase_ClearErrorNoStackTrace()
    {
        var bogus = Path.Combine(_dir.Path, "bogus.db");
        File.WriteAllText(bogus, new string('x', 4096));

        var result = Uet("status", "--db", bogus);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("is not a SQLite database", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void StatusAndEvents_ShowWorkersAndTheStream()
    {
        Ok("init");
        Ok("workers", "spawn", "2");
        Ok("workers", "drain");

        var status = Ok("status");
        var statusJson = Ok("status", "--json");
        var events = Ok("events", "--json");
        var idle = Ok("events", "--type", "worker.idle");
        var tail = Ok("events", "--tail", "1");

        Assert.Contains("Workers: 2 TERMINATED", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("No live run.", status.Stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(statusJson.Stdout))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("workers_by_state").GetProperty("TERMINATED").GetInt32());
            Assert.Equal(8, doc.RootElement.GetProperty("last_events").GetArrayLength());
        }

        var lines = events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
        Assert.Equal(2, idle.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("worker.terminated", tail.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsFollow_PrintsEventsWrittenByAnotherProcess()
    {
        Ok("init");
        using var follower = CliRunner.StartUet(_dir.Path, "events", "--follow", "--json");
        try
        {
            var seen = new List<string>();
            var reading = Task.Run(async () =>
            {
                while (seen.Count < 2 && await follower.StandardOutput.ReadLineAsync() is { } line)
                {
                    seen.Add(line);
                }
            });

            Ok("workers", "spawn", "1");

            var finished = await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.Same(reading, finished);
            Assert.Contains("worker.created", seen[0], StringComparison.Ordinal);
            Assert.Contains("worker.idle", seen[1], StringComparison.Ordinal);
        }
        finally
        {
            follower.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Status_ShowsTheLiveRun()
    {
        Ok("init");
        await using (var store = SqliteStateStore.Open(Db, TimeProvider.System))
        {
            await RunLock.AcquireAsync(store, "run-live", TimeProvider.System, TimeSpan.FromMinutes(5), CancellationToken.None);
        }

        var status = Ok("status");
        var json = Ok("status", "--json");

        Assert.Contains("Live run run-live: pid", status.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("run-live", doc.RootElement.GetProperty("live_run").GetProperty("run_id").GetString());
        Assert.False(doc.RootElement.GetProperty("live_run").GetProperty("stale").GetBoolean());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("events")]
    [InlineData("workers", "list")]
    public void WithoutInit_SaysRunInit(params string[] args)
    {
        var result = Uet(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("Run 'uet init' first", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Db));
    }

    [Fact]
    public void Spawn_BadCount_UsageError()
    {
        Ok("init");

        Assert.Equal(2, Uet("workers", "spawn", "0").ExitCode);
        Assert.Equal(2, Uet("workers", "spawn", "3", "--lease", "soon").ExitCode);
    }
}
