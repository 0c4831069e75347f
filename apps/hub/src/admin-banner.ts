/**
 * The one place a generated admin password is shown (DESIGN.md §4): a banner on stderr at the
 * first start, never through the logger (log lines are kept and shipped; this is not).
 */
export function adminBanner(password: string): string {
  const line = '='.repeat(72);
  return [
    '',
    line,
    'm2mhub: generated the password of the REST API user "admin" (shown only this once):',
    '',
    `    user:     admin`,
    `    password: ${password}`,
    '',
    'Use it as Basic auth or in POST /api/v5/login. To choose or reset it, start m2mhub',
    'with M2MHUB_ADMIN_PASSWORD set (config key admin_password).',
    line,
    '',
    '',
  ].join('\n');
}

export function printAdminBanner(out: { write(s: string): unknown }, password: string): void {
  out.write(adminBanner(password));
}
