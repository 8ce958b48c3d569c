using System.Text.Json;
using Uet.Execution;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Execution;

public sealed class PlanHashTests
{
    [Fact]
    public void PlanHash_FromEachDefinitionOnce_IsTheHashOfTheSortedListSerializedWhole()
    {
        // runs.plan_hash was SHA-256 of the whole id-sorted list serialized at once; built from the definitions
        // serialized one by one (as run_workstreams stores them) it must stay the same value.
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "upstream-workstreams");
        var set = WorkstreamLoader.Load(new WorkstreamSource([folder]), skipInvalid: true);
        Assert.True(set.Workstreams.Count >= 5, $"{set.Workstreams.Count} workstreams loaded");
        var shuffled = set.Workstreams.OrderByDescending(w => w.Id, StringComparer.Ordinal).ToList();

        var whole = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(shuffled.OrderBy(w => w.Id, StringComparer.Ordinal)))));
        var fromEach = RunExecutor.PlanHash(shuffled.Select(w => (w.Id, JsonSerializer.Serialize(w))));

        Assert.Equal(whole, fromEach);
    }
}
