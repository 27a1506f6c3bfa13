using FsCheck;
using Microsoft.FSharp.Core;

namespace Arm64Mmu.Tests;

/// <summary>
/// FsCheck configuration shared by the property tests: a fixed seed so CI runs are reproducible
/// (set ARM64MMU_PROPERTY_SEED to explore other seeds locally).
/// </summary>
internal static class PropertyConfig
{
    public const ulong DefaultSeed = 20261201UL;

    public static ulong Seed =>
        ulong.TryParse(Environment.GetEnvironmentVariable("ARM64MMU_PROPERTY_SEED"), out ulong s) ? s : DefaultSeed;

    public static Config Runs(int maxTest) =>
        Config.QuickThrowOnFailure.WithMaxTest(maxTest)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
}
