package org.postern.smtp.plugin.authdeny.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.testkit.TestContext;

class AuthdenyTest {
    @ParameterizedTest
    @CsvSource({"plain, correct horse,", "login, correct horse,", "cram-md5, , 0123456789abcdef0123456789abcdef"})
    void everyAttemptIsLoggedAndDeclinedWithItsReason(String mechanism, String clearPassword, String digest) {
        TestContext ctx = new TestContext();
        HookResult answer = new Authdeny().onAuth(ctx.auth(mechanism, "bob@example.org", clearPassword, digest, "<1.2@test>"));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("bob@example.org is not free to abuse my relay"), answer.message());
        assertEquals(List.of("WARN fail: cannot authenticate; bob@example.org is not free to abuse my relay"), ctx.logged());
    }
}
