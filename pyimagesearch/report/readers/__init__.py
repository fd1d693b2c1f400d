"""One reader per homework problem: run folders in, report sources (results, caveats, commands) out."""
