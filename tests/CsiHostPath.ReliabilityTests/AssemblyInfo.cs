// The suites share the machine's mount table, loop devices and two cores; running them one at a time keeps
// timings and RSS samples meaningful and a fault test's remount from landing in another suite's data dir.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
