using System.Text;
using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class Sha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void HashData_FipsExamples_GiveTheirDigests(string message, string digest) =>
        Assert.Equal(digest, Convert.ToHexStringLower(Sha256.HashData(Encoding.ASCII.GetBytes(message))));

    [Fact]
    public void HashData_EveryLengthAcrossThreeBlocks_MatchesThePlatform()
    {
        var random = new Random(20261130);
        for (int length = 0; length <= 200; length++)
        {
            var message = new byte[length];
            random.NextBytes(message);
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(message), Sha256.HashData(message));
        }
    }
}
