#include <libxml/xmlversion.h>
// Debian's libxml2 is built with ICU; its <unicode/ucnv.h> clashes with Foundation's private
// _FoundationICU module ("'UErrorCode' has different definitions"). Swift never touches the
// uconv fields this removes from xmlCharEncodingHandler.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
