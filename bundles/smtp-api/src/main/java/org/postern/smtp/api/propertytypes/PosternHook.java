package org.postern.smtp.api.propertytypes;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Sets {@code postern.hook}: the hook names this service answers, e.g. {@code @PosternHook({"mail", "rcpt"})}.
 * The core checks each name against the interfaces the service implements (see {@code HookType}).
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface PosternHook {
    String[] value();
}
