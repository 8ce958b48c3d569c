using Microsoft.Data.Sqlite;

namespace Uet.Tests.Support;

/// <summary>
/// A real git repository in a temp folder with one commit on <c>main</c> (README.md), optionally <c>uet init</c>-ed,
/// and plain reads of its state database, as sqlite3 would do them.
/// </summary>
internal static class TestRepository
{
    public static void Create(string folder, bool init)
    {
        Directory.CreateDirectory(folder);
        CliRunner.Git(folder, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(folder, "README.md"), "base\n");
        CliRunner.Git(folder, "add", ".");
        CliRunner.Git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base");
        if (init)
        {
            var result = CliRunner.Uet(folder, "init");
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException("uet init failed: " + result);
            }
        }
    }

    /// <summary>One value from the state database (.state/uet.db), as text; empty for no row or NULL.</summary>
    public static string Scalar(string folder, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, ".state", "uet.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
    }
}
