using BenchmarkDotNet.Running;

// Run a group with e.g.: dotnet run -c Release --project benchmarks/Arm64Mmu.Benchmarks -- --filter '*Walk*'
BenchmarkSwitcher.FromAssembly(typeof(Arm64Mmu.Benchmarks.WalkBenchmarks).Assembly).Run(args);
