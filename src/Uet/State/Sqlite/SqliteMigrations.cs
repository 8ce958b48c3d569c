using Microsoft.Data.Sqlite;

namespace Uet.State.Sqlite;

/// <summary>
/// Versioned, embedded migrations (<c>Migrations/NNN_name.sql</c>). Each version is applied in its own
/// IMMEDIATE transaction together with its <c>schema_version</c> row, so a crash leaves a whole version or none,
/// and two processes migrating at once serialize on SQLite's write lock instead of applying a version twice.
/// </summary>
internal static class SqliteMigrations
{
    public static readonly IReadOnlyList<(int Version, string Name)> All = typeof(SqliteMigrations).Assembly
        .GetManifestResourceNames()
        .Where(n => n.StartsWith("Uet.State.Sqlite.Migrations.", StringComparison.Ordinal))
        .Select(n => (Version: int.Parse(n.Split('.')[^2][..3], System.Globalization.CultureInfo.InvariantCulture), Name: n))
        .OrderBy(m => m.Version)
        .ToArray();

    public static int Latest => All[^1].Version;

    public static int CurrentVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
        if (Convert.ToInt64(exists.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return 0;
        }

        using var max = connection.CreateCommand();
        max.Transaction = transaction;
        max.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(max.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void Apply(SqliteConnection connection, int target, DateTimeOffset now, string database)
    {
        foreach (var (version, name) in All.Where(m => m.Version <= target))
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var current = CurrentVersion(connection, transaction);
            if (current > Latest)
            {
                throw StateException.NewerSchema(database, current, Latest);
            }

            if (version <= current)
            {
                continue;
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Read(name) + "\nINSERT INTO schema_version (version, applied_at) VALUES ($version, $at);";
            command.Parameters.AddWithValue("$version", version);
            command.Parameters.AddWithValue("$at", SqliteSchema.Format(now));
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static string Read(string resource)
    {
        using var stream = typeof(SqliteMigrations).Assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
