using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Win32.SafeHandles;

namespace Uet.State.Sqlite;

/// <summary>
/// synchronous=FULL with the fsync outside the write gate (Linux, WAL). SQLite at FULL syncs the WAL inside COMMIT,
/// with the write connection (and so every other writer of the process) held the whole time. Here the write connection
/// commits at NORMAL (the frames are written to the WAL, not synced), the gate is freed, and then the committer syncs
/// the WAL file itself; the transactions of that commit complete only after the sync, so a CommitAsync still returns
/// only once its changes are durable. Frames are appended in commit order and SQLite's recovery stops at the first
/// frame that is not intact, so a crash can lose only a tail of commits, never an earlier one without a later one.
/// SQLite still syncs by itself where NORMAL does (before and after a checkpoint, when the WAL starts over). A sync
/// that fails leaves the store unusable: the kernel may have dropped the pages it could not write.
/// </summary>
public sealed partial class SqliteStateStore
{
    private readonly Lock _walGate = new();
    private SafeFileHandle? _wal;
    private bool _writerSyncsLater;
    private StateException? _syncFailed;

    /// <summary>Tests: replaces the sync of the WAL (its return: 0, or an errno).</summary>
    internal Func<int>? SyncOverride { get; set; }

    /// <summary>Whether commits sync the WAL after freeing the write gate (else SQLite syncs inside COMMIT).</summary>
    internal bool SyncsOutsideTheGate => _writerSyncsLater;

    /// <summary>The write connection: at NORMAL when this store syncs the WAL itself, at the store's setting otherwise.</summary>
    private SqliteConnection OpenWriter()
    {
        var connection = OpenConnection();
        _writerSyncsLater = false;
        if (Synchronous == SqliteSynchronous.Full && OperatingSystem.IsLinux())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            if (string.Equals(command.ExecuteScalar() as string, "wal", StringComparison.OrdinalIgnoreCase))
            {
                command.CommandText = "PRAGMA synchronous = NORMAL";
                command.ExecuteNonQuery();
                _writerSyncsLater = true;
            }
        }

        // A new write connection may mean a new WAL file (the old one is removed when the last connection closes).
        ForgetWal();
        return connection;
    }

    /// <summary>Lets go of the WAL handle; a sync holding a reference keeps it open until it is done.</summary>
    private void ForgetWal()
    {
        lock (_walGate)
        {
            _wal?.Dispose();
            _wal = null;
        }
    }

    /// <summary>
    /// Called without the gate after a physical commit: syncs the WAL when that commit did not, then completes the
    /// commit's waiting transactions. Throws the failure (after failing them) to a caller that needs durability too.
    /// </summary>
    internal void Settle(Committed? committed)
    {
        if (committed is not { } done)
        {
            return;
        }

        StateException? error = null;
        if (done.SyncWal)
        {
            try
            {
                error = SyncWal();
            }
#pragma warning disable CA1031 // Whatever went wrong, the commit's transactions must not be left waiting: each fails with it.
            catch (Exception ex) when (ex is not StateException)
#pragma warning restore CA1031
            {
                error = _syncFailed = StateException.Unusable(Path, "a commit could not be made durable: " + ex.Message, ex);
            }
        }

        if (error is null)
        {
            foreach (var member in done.Members)
            {
                member.TrySetResult();
            }

            return;
        }

        Fail(done.Members, error);
        throw error;
    }

    /// <summary>A physical commit made under the gate: its waiting transactions, and whether the WAL still has to be synced.</summary>
    internal readonly record struct Committed(TaskCompletionSource[] Members, bool SyncWal);

    // One sync at a time, each after the last one's outcome is known: Linux reports a failed write-back once per open
    // file, so a sync that ran beside a failing one could succeed although frames before its own were lost.
    private readonly Lock _syncGate = new();

    private StateException? SyncWal()
    {
        lock (_syncGate)
        {
            return _syncFailed ?? SyncWalOnce();
        }
    }

    private StateException? SyncWalOnce()
    {
        SafeFileHandle wal;
        var added = false;
        lock (_walGate)
        {
            try
            {
                wal = _wal ??= File.OpenHandle(Path + "-wal", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return _syncFailed = StateException.Unusable(Path, "its write-ahead log could not be opened to make a commit durable: " + ex.Message, ex);
            }

            // Held from here: a new write connection replaces the handle under this lock, and disposes it only once released.
            wal.DangerousAddRef(ref added);
        }

        try
        {
            var errno = SyncOverride is { } sync ? sync() : FileDataSync((int)wal.DangerousGetHandle()) == 0 ? 0 : Marshal.GetLastPInvokeError();
            return errno == 0
                ? null
                : _syncFailed = StateException.Unusable(Path, $"a commit could not be made durable (fdatasync of its write-ahead log failed: {Marshal.GetPInvokeErrorMessage(errno)}); check the disk", new IOException(Marshal.GetPInvokeErrorMessage(errno)));
        }
        finally
        {
            if (added)
            {
                wal.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FileDataSync(int fd);
}
