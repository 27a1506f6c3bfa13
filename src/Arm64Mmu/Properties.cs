// The hot paths (walker, TLB lookup) never read a local before writing it.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
