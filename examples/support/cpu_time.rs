//! CPU time of a process from `/proc`, in nanoseconds: the sum of its threads' run time
//! (`/proc/<pid>/task/*/schedstat`, first field), which is exact where `/proc/<pid>/stat` counts
//! 10 ms clock ticks. A thread that has exited is no longer counted; the tools measure runs
//! shorter than tokio's 10 s idle timeout for blocking threads, and the runtimes' workers live as
//! long as the process.

/// The CPU time of the calling process so far.
#[allow(dead_code)]
pub fn process_ns() -> u64 {
    threads_ns("/proc/self/task")
}

/// The CPU time of process `pid` so far.
#[allow(dead_code)]
pub fn pid_ns(pid: u32) -> u64 {
    threads_ns(&format!("/proc/{pid}/task"))
}

/// The CPU time of process `pid` from `/proc/<pid>/stat` (user + system, 10 ms ticks; counts
/// exited threads too), in nanoseconds.
#[allow(dead_code)]
pub fn pid_ticks_ns(pid: u32) -> u64 {
    stat_ticks_ns(&format!("/proc/{pid}/stat"))
}

/// User + system time from a `stat` file (`/proc/<pid>/stat`, `/proc/self/stat`, a thread's
/// `/proc/<pid>/task/<tid>/stat`), in 10 ms ticks, as nanoseconds; 0 if unreadable.
#[allow(dead_code)]
pub fn stat_ticks_ns(path: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0;
    };
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state.
    (ticks(11) + ticks(12)) * 10_000_000
}

fn threads_ns(tasks: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(tasks) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
