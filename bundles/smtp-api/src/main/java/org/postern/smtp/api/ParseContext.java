package org.postern.smtp.api;

import org.osgi.annotation.versioning.ProviderType;

/** Context of the parse hooks: the command verb and the rest of the line. */
@ProviderType
public interface ParseContext extends HookContext {
    /** The verb in lower case, e.g. {@code mail}. */
    String command();

    /** The line after the verb, e.g. {@code FROM:<a@b> SIZE=10}. */
    String line();
}
