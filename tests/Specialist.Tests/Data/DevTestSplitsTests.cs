using Specialist.Data;

namespace Specialist.Tests.Data;

/// <summary>The fixed ASDiv and SVAMP dev/test splits on the real data.</summary>
public class DevTestSplitsTests
{
    private static readonly DataOptions Real = new(TestPaths.DataRoot);

    [Theory]
    [InlineData("asdiv", 2305)]
    [InlineData("svamp", 1000)]
    public void Dev_holds_200_problems_and_test_the_rest_disjoint_in_file_order(string set, int total)
    {
        var all = ProblemSets.Load(set, Real);
        var dev = ProblemSets.Load(set + "-dev", Real);
        var test = ProblemSets.Load(set + "-test", Real);
        Assert.Equal(total, all.Count);
        Assert.Equal(200, dev.Count);
        Assert.Equal(total - 200, test.Count);
        Assert.Empty(dev.Select(p => p.Id).Intersect(test.Select(p => p.Id)));
        // Together they are the whole set, each part in the set's order, problems unchanged.
        var position = all.Select((p, i) => (p.Id, i)).ToDictionary(x => x.Id, x => x.i);
        Assert.Equal(all.Select(p => p.Id).Order(), dev.Concat(test).Select(p => p.Id).Order());
        Assert.Equal(dev.Select(p => position[p.Id]).Order(), dev.Select(p => position[p.Id]));
        Assert.Equal(test.Select(p => position[p.Id]).Order(), test.Select(p => position[p.Id]));
        Assert.All(dev, p => Assert.Equal(all[position[p.Id]], p));
    }

    [Theory]
    // Computed independently (Python: FNV-1a-64 of the id, SplitMix64 of 230112726 + it, the 200 smallest keys).
    [InlineData("asdiv-dev", "asdiv/nluds-0018,asdiv/nluds-0033,asdiv/nluds-0037,asdiv/nluds-0039", "asdiv/nluds-2289")]
    [InlineData("svamp-dev", "svamp/chal-9,svamp/chal-15,svamp/chal-27,svamp/chal-31", "svamp/chal-993")]
    public void The_split_is_the_documented_keyed_hash(string set, string firstIds, string lastId)
    {
        var dev = ProblemSets.Load(set, Real);
        Assert.Equal(firstIds.Split(','), dev.Take(4).Select(p => p.Id));
        Assert.Equal(lastId, dev[^1].Id);
    }

    [Fact]
    public void Fnv1a64_matches_its_published_test_vectors()
    {
        Assert.Equal(0xCBF29CE484222325UL, DevTestSplits.Fnv1a64(""));
        Assert.Equal(0xAF63DC4C8601EC8CUL, DevTestSplits.Fnv1a64("a"));
        Assert.Equal(0x85944171F73967E8UL, DevTestSplits.Fnv1a64("foobar"));
    }
}
