package org.postern.smtp.plugin.dmarc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postern.smtp.plugin.dmarc.internal.DmarcRecord.Disposition;

class DmarcRecordTest {
    @Test
    void aFullRecordIsReadTagByTag() {
        assertEquals(Optional.of(new DmarcRecord(Disposition.REJECT, Disposition.QUARANTINE, true, false, 50,
                List.of("mailto:dmarc@example.com", "mailto:copy@example.net"), "1")),
                DmarcRecord.parse("v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=50; "
                        + "rua=mailto:dmarc@example.com,mailto:copy@example.net; ruf=mailto:f@example.com; fo=1"));
    }

    @Test
    void missingTagsTakeRfc7489sDefaults() {
        assertEquals(Optional.of(new DmarcRecord(Disposition.NONE, Disposition.NONE, false, false, 100, List.of(), "0")),
                DmarcRecord.parse("v=DMARC1;p=none"));
    }

    @Test
    void aRecordThatDoesNotBeginWithItsVersionIsNoRecord() {
        assertEquals(Optional.empty(), DmarcRecord.parse("p=reject; v=DMARC1"));
        assertEquals(Optional.empty(), DmarcRecord.parse("v=DMARC2; p=reject"));
        assertEquals(Optional.empty(), DmarcRecord.parse("v=spf1 -all"));
        assertEquals(Optional.empty(), DmarcRecord.parse(""));
    }

    @Test
    void anUnknownPolicyIsNoneWhenReportsAreAskedForAndNoRecordOtherwise() {
        assertEquals(Optional.of(Disposition.NONE), DmarcRecord.parse("v=DMARC1; p=bounce; rua=mailto:r@example.com").map(DmarcRecord::policy));
        assertEquals(Optional.empty(), DmarcRecord.parse("v=DMARC1; p=bounce"));
        assertEquals(Optional.empty(), DmarcRecord.parse("v=DMARC1; sp=reject"));
    }

    @Test
    void malformedOptionalTagsFallBackToTheirDefaults() {
        DmarcRecord record = DmarcRecord.parse("v=DMARC1; p=Quarantine; sp=never; pct=150; adkim=x; junk").orElseThrow();
        assertEquals(new DmarcRecord(Disposition.QUARANTINE, Disposition.QUARANTINE, false, false, 100, List.of(), "0"), record);
        assertEquals(100, DmarcRecord.parse("v=DMARC1; p=reject; pct=half").orElseThrow().percent());
    }

    @Test
    void aPolicyOutsidePctIsLoweredOneStep() {
        assertEquals(Disposition.QUARANTINE, Disposition.REJECT.lower());
        assertEquals(Disposition.NONE, Disposition.QUARANTINE.lower());
        assertEquals(Disposition.NONE, Disposition.NONE.lower());
    }
}
