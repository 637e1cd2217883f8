namespace CsiHostPath.E2ETests;

/// <summary>A theory that needs a cluster: skipped, with the reason, unless <see cref="Cluster.KubeconfigVariable"/> names a kubeconfig.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClusterTheoryAttribute : TheoryAttribute
{
    public ClusterTheoryAttribute()
    {
        if (Cluster.KubeconfigPath is null)
            Skip = $"{Cluster.KubeconfigVariable} is not set: set it to a kubeconfig of a cluster with deploy/base installed to run the end-to-end tests";
    }
}
