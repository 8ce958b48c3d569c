using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Tests.Support;

namespace Uet.Tests.State;

/// <summary>A real SQLite file in a temp folder, migrated, with a fake clock.</summary>
internal sealed class StoreFixture : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();

    public StoreFixture()
    {
        DatabasePath = Path.Combine(_dir.Path, ".state", "uet.db");
        Store = SqliteStateStore.Open(DatabasePath, Clock, create: true, busyTimeout: TimeSpan.FromMilliseconds(300));
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero));

    public SqliteStateStore Store { get; }

    public string DatabasePath { get; }

    public string Folder => _dir.Path;

    public static async Task<StoreFixture> MigratedAsync()
    {
        var fixture = new StoreFixture();
        await fixture.Store.MigrateAsync(null, CancellationToken.None);
        return fixture;
    }

    public async Task InTransactionAsync(Func<StoreTransaction, Task> work)
    {
        await using var transaction = await Store.BeginAsync(CancellationToken.None);
        await work(transaction);
        await transaction.CommitAsync(CancellationToken.None);
    }

    public Task CreateAsync(EntityKind kind, string id, string? runId = "run-1", Dictionary<string, object?>? columns = null) =>
        InTransactionAsync(t => StateChanger.CreateAsync(t, new NewEntity(kind, id, runId, columns ?? []), CancellationToken.None));

    public Task ChangeAsync(EntityKind kind, string id, string to) =>
        InTransactionAsync(t => StateChanger.ChangeAsync(t, kind, id, to, null, CancellationToken.None));

    /// <summary>Reads one value with a plain connection, as sqlite3 would.</summary>
    public object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public long Count(string sql) => Convert.ToInt64(Scalar(sql), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }
}
